import Foundation
import QSMTesting
import Testing

/// io.qsm.Admin.WatchAlerts as a client streams it: `more: true` over the real socket, each alert raised
/// after the call in its own reply with `continues: true`, none from before it.
@Suite("io.qsm.Admin.WatchAlerts over the socket")
struct WatchAlertsTests {
    @Test func anAlertRaisedAfterSubscribingArrivesAndEarlierOnesDoNot() async throws {
        // One failed login is a brute_force alert (subject: the account); the source-wide rules are off so
        // that the rounds below, all from root, stay one alert each.
        let rules = try TemporaryDirectory(prefix: "qsm-rules")
        let rulesFile = rules.appending("rules.json")
        try Data(#"""
            {"bruteForce": {"count": 1, "windowSeconds": 600}, "passwordSpraying": {"count": 0, "windowSeconds": 600},
             "sourceFailures": {"count": 0, "windowSeconds": 600}}
            """#.utf8).write(to: URL(fileURLWithPath: rulesFile))
        let daemon = try await Daemon(settings: cheapSettings(["rulesFile": rulesFile]))
        let other = try RawVarlink(daemon.socket)
        func failLogin(_ account: String) throws {
            let reply = try other.call("io.qsm.Broker.Login", ["username": account, "password": "not-the-password"])
            #expect(reply.error != nil, "a login with a wrong password succeeded for \(account)")
        }
        try failLogin("before")
        let raised = try other.ok("io.qsm.Admin.Alerts")
        #expect((raised["alerts"] as? [[String: Any]])?.count == 1, "the alert before subscribing: \(raised)")

        let watcher = try RawVarlink(daemon.socket)
        try watcher.send("io.qsm.Admin.WatchAlerts", more: true)
        // The call has no first reply, so the test cannot see when the subscription starts: it raises a
        // fresh alert per round until one arrives (an alert raised before the subscription took hold is
        // not sent, which is the behaviour under test too).
        var received: RawVarlink.Reply?
        var accounts: [String] = []
        for round in 0..<20 where received == nil {
            accounts.append("after\(round)")
            try failLogin("after\(round)")
            received = try? watcher.receive(timeout: .seconds(3))
        }
        let reply = try #require(received, "no alert arrived on the stream after \(accounts.count) rounds")
        #expect(reply.error == nil, "\(reply.error ?? "") \(reply.parameters)")
        #expect(reply.continues, "a streamed reply says continues: true")
        let alert = try #require(reply["alert"] as? [String: Any], "\(reply.parameters)")
        #expect(alert["rule"] as? String == "brute_force")
        let subject = try #require(alert["subject"] as? String)
        #expect(accounts.contains(subject), "the alert is one raised after subscribing, not \(subject)")

        // The stream stays open: the next alert arrives on it too.
        try failLogin("later")
        var next = try watcher.receive(timeout: .seconds(60))
        while (next["alert"] as? [String: Any])?["subject"] as? String != "later" {
            let seen = (next["alert"] as? [String: Any])?["subject"] as? String ?? "nothing"
            #expect(accounts.contains(seen) && seen != "before", "unexpected alert on the stream: \(next.parameters)")
            next = try watcher.receive(timeout: .seconds(60))
        }
        #expect(next.continues)
        #expect(try await daemon.stop() == 0)
    }
}
