import Foundation
import QSMClient
import QSMTesting
import Testing

/// --json speaks one format (issue 18 item 9): times in RFC 3339 and ids in hex, in the socket commands
/// and the offline ones alike; `qsm admin events --json` has hex ids and numbers as numbers; `qsm log
/// replay --json` exists. Errors stay one `qsm:` line on standard error with the exit status.
@Suite("qsm --json: one time format, one id format")
struct JSONOutputTests {
    private static func isRFC3339(_ text: String?) -> Bool { text?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil }

    private func lines(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not one JSON object a line: \(line)")
        }
    }

    @Test func socketAndOfflineCommandsAgree() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("bob")
        #expect(try await daemon.qsm(["register", "bob", "--password-stdin"], input: "bob-password", home: home).0 == 0)
        let (_, login, _) = try await daemon.qsm(["login", "bob", "--password-stdin", "--json"], input: "bob-password", home: home)
        let session = try #require(try JSONSerialization.jsonObject(with: Data(login.utf8)) as? [String: Any])
        #expect(Self.isRFC3339(session["expiresAt"] as? String), "\(session)")
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let alice = try await client.registerAndLogin("alice")
        let id = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "hello", mode: "pqc")).messageId
        #expect(id.wholeMatch(of: /[0-9a-f]{32}/) != nil)

        let (_, inbox, _) = try await daemon.qsm(["inbox", "--json"], home: home)
        let message = try #require(((try JSONSerialization.jsonObject(with: Data(inbox.utf8)) as? [String: Any])?["messages"] as? [[String: Any]])?.first)
        #expect(message["messageId"] as? String == id)
        let sentAt = try #require(message["sentAt"] as? String, "sentAt is not a time: \(message)")
        #expect(Self.isRFC3339(sentAt), "\(sentAt)")

        // Over the socket (root is an administrator): one object a line, the body in the export's form.
        let (eventsStatus, events, eventsError) = try await daemon.qsm(["admin", "events", "--json"], home: home)
        #expect(eventsStatus == 0, "\(eventsError)")
        let socketEvents = try lines(events)
        let sent = try #require(socketEvents.first { $0["type"] as? String == "message_sent" }, "\(events.prefix(500))")
        let data = try #require(sent["data"] as? [String: Any])
        #expect(data["messageId"] as? String == id, "the message id is not the hex every other command shows: \(data["messageId"] ?? "none")")
        #expect(data["size"] as? Int == 5, "a 64-bit number is not a number: \(data["size"] ?? "none")")
        let at = try #require(sent["at"] as? String, "\(sent)")
        #expect(Self.isRFC3339(at))

        // Offline, from the same log: the same event, the same time, the same id.
        let (replayStatus, replay, replayError) = try await ChildProcess.run(Products.qsm, ["log", "replay", "--json", "--data", daemon.data])
        #expect(replayStatus == 0, "\(replayError)")
        let offline = try lines(replay.joined(separator: "\n"))
        let same = try #require(offline.first { ($0["position"] as? Int) == (sent["position"] as? Int) })
        #expect(same["type"] as? String == "message_sent" && same["recordedAt"] as? String == at, "\(same)")
        #expect((same["body"] as? [String: Any])?["messageId"] as? String == id)
        let (_, info, _) = try await ChildProcess.run(Products.qsm, ["log", "info", "--json", "--data", daemon.data])
        let created = (try JSONSerialization.jsonObject(with: Data(info.joined(separator: "\n").utf8)) as? [String: Any])?["createdAt"] as? String
        #expect(Self.isRFC3339(created), "log info's createdAt: \(created ?? "none")")

        // An error with --json: one qsm: line on standard error, nothing on standard output, the status.
        let (status, output, stderr) = try await daemon.qsm(["read", "--json", String(repeating: "0", count: 32)], home: home)
        #expect(status == 1 && output.isEmpty && stderr.hasPrefix("qsm: no message "), "\(status) \(output) \(stderr)")
        #expect(try await daemon.stop() == 0)
    }
}
