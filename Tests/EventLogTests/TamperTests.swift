import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Testing

@Suite("Tamper evidence")
struct TamperTests {
    /// Builds a log of `count` messages whose ciphertexts carry a unique marker at `target`.
    private func makeLog(_ backend: Backend, count: Int, target: Int, marker: Data) async throws -> TestLog {
        let (source, log) = try await TestLog.make(backend)
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
        await log.close()
        return source
    }

    @Test(arguments: Backend.allCases, [1, 37, 500])
    func changingOneByteOfOneStoredEventMakesVerifyNameIt(backend: Backend, target: Int) async throws {
        let marker = Data("TAMPER-ME-\(target)-0123456789abcdef".utf8)
        let original = try await makeLog(backend, count: 500, target: target, marker: marker)
        #expect(try await original.open(readOnly: true).verify(from: 1, progress: nil, visit: nil).isValid)

        let tampered: any LogStore
        switch backend {
        case .lmdb:
            // Flip one byte of the marker inside a copy of data.mdb, as an attacker editing the file would.
            let copy = try TemporaryDirectory()
            try FileManager.default.removeItem(atPath: copy.path)
            try FileManager.default.copyItem(atPath: original.location, toPath: copy.path)
            let file = copy.appending("data.mdb")
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            let found = try #require(bytes.range(of: marker))
            bytes[found.lowerBound + 3] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: file))
            tampered = try EventStore(directory: copy.path, mode: .readOnly)
        case .postgresql:
            // The same edit through SQL, as the database's owner could make it.
            let log = try await original.open(readOnly: true)
            let record = try #require(try await log.read(from: UInt64(target), limit: 1).first).record
            let offset = try #require(record.range(of: marker)).lowerBound + 3
            try PostgresTestServer.shared().psql(
                "UPDATE events SET record = set_byte(record, \(offset), get_byte(record, \(offset)) # 1) WHERE position = \(target)",
                database: try #require(original.database))
            tampered = log
        }
        let report = try await tampered.verify(from: 1, progress: nil, visit: nil)
        let problem = try #require(report.firstProblem)
        #expect(problem.position == UInt64(target))
        #expect(problem.problem == .hashMismatch)
        #expect(report.verifiedEvents == UInt64(target - 1))
    }
}
