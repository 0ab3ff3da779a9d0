import EventLog
import Foundation
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

/// An independent reader, written in Python with python3-lmdb and python3-protobuf (modules compiled
/// from Schemas/ by protoc at test time), must decode every event Swift wrote, recompute the same chain,
/// and agree with Swift's verify, on a good log and on a tampered copy.
@Suite("Python cross-check")
struct PythonCrossCheckTests {
    /// Debian's interpreter (python3-lmdb, python3-protobuf); tools/test installs them. QSM_PYTHON overrides.
    static let python = ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3"
    static let script = Products.packageRoot + "/tools/crosscheck/log_crosscheck.py"

    struct Finding: Decodable {
        struct Bad: Decodable {
            let position: UInt64
            let problem: String
        }
        let events: UInt64
        let head_hash: String
        let first_bad: Bad?
        let types: [String: Int]
    }

    private func crossCheck(_ directory: String) async throws -> Finding {
        let (status, lines, stderr) = try await ChildProcess.run(
            Self.python, [Self.script, "--schemas", Products.packageRoot + "/Schemas", "--log", directory])
        try #require(status == 0, "the cross-check failed (run tools/test, which installs python3-lmdb, python3-protobuf and protoc): \(stderr)")
        let json = try #require(lines.last(where: { $0.hasPrefix("{") }))
        return try JSONDecoder().decode(Finding.self, from: Data(json.utf8))
    }

    @Test func pythonDecodesEveryEventAndAgreesWithSwiftsVerify() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path)
        var expectedTypes: [String: Int] = [:]
        for round in 0..<20 {
            let events = try sampleEventsOfEveryType(seed: UInt64(round))
            for event in events { expectedTypes[EventType(rawValue: event.type)!.name, default: 0] += 1 }
            try await log.append(events)
        }
        let report = try log.verify()
        let finding = try await crossCheck(directory.path)
        #expect(finding.first_bad == nil)
        #expect(finding.events == report.verifiedEvents)
        #expect(finding.head_hash == hex(report.verifiedHash))
        #expect(finding.head_hash == hex(try log.head().hash))
        #expect(finding.types == expectedTypes)
    }

    @Test func pythonAndSwiftNameTheSameTamperedPosition() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path)
        var events = try sampleEventsOfEveryType()
        events[9].body = try QSMEvent.OneOf_Body.loginFailed(.with { $0.username = "UNIQUE-MARKER-FOR-TAMPER" }).message.serializedBytes()
        events[9].type = EventType.loginFailed.rawValue
        try await log.append(events)
        log.close()
        let file = URL(fileURLWithPath: directory.appending("data.mdb"))
        var bytes = try Data(contentsOf: file)
        let found = try #require(bytes.range(of: Data("UNIQUE-MARKER-FOR-TAMPER".utf8)))
        bytes[found.lowerBound] ^= 0x20
        try bytes.write(to: file)

        let report = try EventStore(directory: directory.path, mode: .readOnly).verify()
        let finding = try await crossCheck(directory.path)
        #expect(report.firstProblem?.position == 10)
        #expect(finding.first_bad?.position == 10)
        #expect(finding.first_bad?.problem == "hash mismatch")
        #expect(finding.head_hash == hex(report.verifiedHash))
    }
}
