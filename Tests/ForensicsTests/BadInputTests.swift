import EventLog
import Forensics
import Foundation
import QSMEvents
import QSMTesting
import Testing

/// The built qsm binary on bad input: one clear line on standard error, the documented exit status
/// (docs/forensics.md), and nothing on standard output.
@Suite("Bad input")
struct BadInputTests {
    /// A small good data directory.
    private func goodData() async throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: "qsm-forensics-bad")
        let store = try EventStore(directory: directory.appending("log"))
        var generator = SeededGenerator(seed: 1)
        _ = try await SyntheticLog.append(count: 300, users: 5, to: store, using: &generator)
        store.close()
        return directory
    }

    private func expectFailure(_ arguments: [String], status: Int32, mentioning words: [String]) async throws {
        let run = try await runQSM(arguments)
        #expect(run.status == status, "\(arguments): status \(run.status), stderr \(run.standardError)")
        #expect(run.output.isEmpty, "\(arguments) wrote \(run.output.count) bytes")
        for word in words { #expect(run.standardError.contains(word), "\(arguments): \(run.standardError)") }
    }

    /// Every offline command, with the data directory and one more argument list.
    private func commands(_ data: String) -> [[String]] {
        [
            ["log", "export", "--data", data], ["log", "replay", "--data", data],
            ["forensics", "query", "--data", data, "--actor", "user1"], ["forensics", "timeline", "user1", "--data", data],
            ["forensics", "message", String(repeating: "ab", count: 16), "--data", data],
        ]
    }

    @Test func missingOrForeignDirectoriesAreNoInput() async throws {
        let scratch = try TemporaryDirectory(prefix: "qsm-forensics-none")
        try FileManager.default.createDirectory(atPath: scratch.appending("empty/log"), withIntermediateDirectories: true)
        for data in [scratch.appending("missing"), scratch.path, scratch.appending("empty")] {
            for command in commands(data) { try await expectFailure(command, status: 66, mentioning: ["qsm:", data]) }
        }
    }

    @Test func damagedLogsAreDataErrors() async throws {
        // data.mdb that is not LMDB at all.
        let garbage = try TemporaryDirectory(prefix: "qsm-forensics-garbage")
        try FileManager.default.createDirectory(atPath: garbage.appending("log"), withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: 5)
        try Data((0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) })
            .write(to: URL(fileURLWithPath: garbage.appending("log/data.mdb")))
        // A real log whose two meta pages were overwritten.
        let damaged = try await goodData()
        let file = URL(fileURLWithPath: damaged.appending("log/data.mdb"))
        var bytes = try Data(contentsOf: file)
        bytes.replaceSubrange(0..<8192, with: Data(repeating: 0x5A, count: 8192))
        try bytes.write(to: file)
        for data in [garbage.path, damaged.path] {
            for command in commands(data) { try await expectFailure(command, status: 65, mentioning: ["qsm:", "not"]) }
        }
    }

    @Test func unusableFiltersAreUsageErrors() async throws {
        let data = try await goodData().path
        let cases: [([String], String)] = [
            (["log", "export", "--data", data, "--since", "yesterday"], "--since"),
            (["log", "replay", "--data", data, "--until", "2026-13-01"], "--until"),
            (["forensics", "timeline", "user1", "--data", data, "--since", "1h"], "--since"),
            (["log", "export", "--data", data, "--type", "message_snet"], "unknown event type"),
            (["forensics", "query", "--data", data, "--type", "login_failed,nope"], "unknown event type"),
            (["log", "export", "--data", data, "--from", "10", "--to", "5"], "--from"),
            (["forensics", "query", "--data", data, "--from", "0"], "--from"),
            (["log", "export", "--data", data, "--since", "2026-11-28", "--until", "2026-11-27"], "--since"),
            (["forensics", "query", "--data", data, "--message-id", "xyz"], "hexadecimal"),
            (["forensics", "message", "abcd", "--data", data], "hexadecimal"),
            (["log", "export", "--data", data, "--from", "-3"], ""),
            (["log", "export", "--data", data, "--to", "many"], ""),
        ]
        for (arguments, word) in cases { try await expectFailure(arguments, status: 64, mentioning: word.isEmpty ? [] : [word]) }
        // Bad filters win over a missing log: nothing is opened before the arguments make sense.
        try await expectFailure(["log", "export", "--data", "/nonexistent", "--since", "soon"], status: 64, mentioning: ["--since"])
    }

    @Test func anUnknownMessageIsNotFoundAndAKnownOneIsFound() async throws {
        let data = try await goodData()
        try await expectFailure(
            ["forensics", "message", String(repeating: "00", count: 16), "--data", data.path], status: 1,
            mentioning: ["no event"])
        let log = try ForensicLog(dataDirectory: data.path)
        var query = EventQuery()
        query.types = [.messageSent]
        let sent = try #require(try log.events(matching: query).first)
        // A query for sends that yields anything else is the bug this test exists to catch: fail, never pass.
        guard case .messageSent(let body)? = sent.body else {
            Issue.record("a query for message_sent returned \(String(describing: sent.body)) at \(sent.position)")
            return
        }
        let id = HexDigits.encode(body.messageID)
        let table = try await runQSM(["forensics", "message", id.uppercased(), "--data", data.path])
        #expect(table.status == 0 && table.text.contains("from \(body.sender) to \(body.recipient)"), "\(table.text)")
        let json = try await runQSM(["forensics", "message", id, "--data", data.path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: json.output) as? [String: Any])
        #expect(object["messageId"] as? String == id)
        #expect((object["sent"] as? [[String: Any]])?.first?["position"] as? Int == Int(sent.position))
    }
}
