import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Testing

@Suite("Tamper evidence")
struct TamperTests {
    /// Builds a log of `count` messages whose ciphertexts carry a unique marker at `target`.
    private func makeLog(count: Int, target: Int, marker: Data) async throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path)
        var generator = SeededGenerator(seed: 11)
        var events: [NewEvent] = []
        for index in 1...count {
            var body = QSMMessageSent()
            body.sender = "alice"
            body.recipient = "bob"
            body.mode = .aes
            body.ciphertext = index == target ? marker : Data((0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) })
            events.append(try NewEvent(.messageSent(body), actor: "alice"))
        }
        try await log.append(events)
        log.close()
        return directory
    }

    @Test(arguments: [1, 37, 500])
    func changingOneByteOfOneStoredEventInACopyMakesVerifyNameIt(target: Int) async throws {
        let marker = Data("TAMPER-ME-\(target)-0123456789abcdef".utf8)
        let original = try await makeLog(count: 500, target: target, marker: marker)
        let copy = try TemporaryDirectory()
        try FileManager.default.removeItem(atPath: copy.path)
        try FileManager.default.copyItem(atPath: original.path, toPath: copy.path)

        // Flip one byte of the marker inside data.mdb, as an attacker editing the file would.
        let file = copy.appending("data.mdb")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let found = try #require(bytes.range(of: marker))
        bytes[found.lowerBound + 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file))

        #expect(try EventStore(directory: original.path, mode: .readOnly).verify().isValid)
        let report = try EventStore(directory: copy.path, mode: .readOnly).verify()
        let problem = try #require(report.firstProblem)
        #expect(problem.position == UInt64(target))
        #expect(problem.problem == .hashMismatch)
        #expect(report.verifiedEvents == UInt64(target - 1))
    }
}
