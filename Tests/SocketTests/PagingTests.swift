import Foundation
import QSMClient
import QSMTesting
import Testing

/// Issue 18, item 5: qsm inbox and qsm history page past 100, say what they left out, and page with
/// --all or a cursor.
@Suite("Inbox and history paging, through qsm and qsmd")
struct PagingTests {
    @Test func moreThanAHundredMessagesArePagedNeverCutSilently() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let bob = daemon.directory.appending("bob")
        // 105 aes messages over one connection (the fastest mode and path), then bob's qsm lists them.
        let connection = try await QSMConnection.connect(socketPath: daemon.socket)
        let alice = try await connection.registerAndLogin("alice")
        _ = try await connection.call(BrokerAPI.Register(username: "bob", password: "bob-password"))
        for n in 1...105 {
            _ = try await connection.call(BrokerAPI.Send(token: alice, to: "bob", body: "message \(n)", mode: "aes"))
        }
        _ = try await daemon.qsm(["login", "bob", "--password-stdin"], input: "bob-password", home: bob)
        func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

        var (status, out, err) = try await daemon.qsm(["inbox"], home: bob)
        err = err.trimmingCharacters(in: .newlines)
        #expect(status == 0 && lines(out).count == 100, "the default page: \(lines(out).count) lines")
        #expect(err == "5 more: use --limit or --all", "\(err)")
        (status, out, err) = try await daemon.qsm(["inbox", "--limit", "3"], home: bob)
        err = err.trimmingCharacters(in: .newlines)
        #expect(lines(out).count == 3 && err == "102 more: use --limit or --all", "\(out) \(err)")
        (status, out, err) = try await daemon.qsm(["inbox", "--all"], home: bob)
        #expect(status == 0 && lines(out).count == 105 && err.isEmpty, "\(lines(out).count) \(err)")
        #expect(Set(lines(out).map { $0.split(separator: " ")[1] }).count == 105, "each message once")

        // --json carries the total and the cursor of the next page, which --cursor takes.
        (status, out, err) = try await daemon.qsm(["inbox", "--json", "--limit", "100"], home: bob)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(first["total"] as? Int == 105 && first["more"] as? Int == 5)
        let cursor = try #require(first["cursor"] as? String)
        (status, out, err) = try await daemon.qsm(["inbox", "--json", "--cursor", cursor], home: bob)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out) \(err)")
        let ids = { (reply: [String: Any]) in ((reply["messages"] as? [[String: Any]]) ?? []).compactMap { $0["messageId"] as? String } }
        #expect(ids(second).count == 5 && Set(ids(second)).isDisjoint(with: ids(first)))
        #expect(second["more"] as? Int == 0 && (second["cursor"] == nil || second["cursor"] is NSNull))
        (status, out, err) = try await daemon.qsm(["inbox", "--cursor", "not-a-cursor"], home: bob)
        #expect(status == 64 && err.contains("--cursor"), "\(status) \(err)")
        (status, out, err) = try await daemon.qsm(["inbox", "--all", "--limit", "5"], home: bob)
        #expect(status == 64 && err.contains("--limit or --all"), "\(err)")

        // Bob's history: 105 received lines, his registration, his login and the key exchange alice's
        // first send ran.
        (status, out, err) = try await daemon.qsm(["history"], home: bob)
        #expect(lines(out).count == 100 && err == "8 more: use --limit or --all\n", "\(err)")
        (status, out, err) = try await daemon.qsm(["history", "--all"], home: bob)
        #expect(lines(out).count == 108 && err.isEmpty, "\(lines(out).count) \(err)")
        (status, out, err) = try await daemon.qsm(["history", "--json", "--limit", "1"], home: bob)
        let history = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(history["total"] as? Int == 108 && history["more"] as? Int == 107 && history["cursor"] is String)

        (status, out, err) = try await daemon.qsm(["inbox", "--help"], home: bob)
        #expect(out.contains("newest 100"), "the default is documented: \(out)")
        #expect(try await daemon.stop() == 0)
    }
}
