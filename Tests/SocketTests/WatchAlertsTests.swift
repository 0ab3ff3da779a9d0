import Foundation
import QSMClient
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
        let other = try await QSMConnection.connect(socketPath: daemon.socket)
        func failLogin(_ account: String) async {
            let outcome = await Outcome.of(other, BrokerAPI.Login(username: account, password: "not-the-password"))
            #expect(outcome.error != nil, "a login with a wrong password succeeded for \(account)")
        }
        await failLogin("before")
        let raised = try await other.call(AdminAPI.Alerts())
        #expect(raised.alerts.count == 1, "the alert before subscribing: \(raised.alerts)")

        // Each streamed reply (continues: true) as it arrives, kept for the checks below.
        let watcher = try await QSMConnection.connect(socketPath: daemon.socket)
        let streamed = Collected<AdminAPI.Alert>()
        let consumer = Task {
            for try await reply in watcher.stream(AdminAPI.WatchAlerts()) { streamed.append(reply.alert) }
        }
        defer { consumer.cancel() }
        func arrived(within timeout: Duration, _ wanted: ([AdminAPI.Alert]) -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            while !wanted(streamed.all) {
                guard ContinuousClock.now < deadline else { return false }
                try await Task.sleep(for: .milliseconds(20))
            }
            return true
        }
        // The call has no first reply, so the test cannot see when the subscription starts: it raises a
        // fresh alert per round until one arrives (an alert raised before the subscription took hold is
        // not sent, which is the behaviour under test too).
        var accounts: [String] = []
        for round in 0..<20 where streamed.all.isEmpty {
            accounts.append("after\(round)")
            await failLogin("after\(round)")
            _ = try await arrived(within: .seconds(3)) { !$0.isEmpty }
        }
        let alert = try #require(streamed.all.first, "no alert arrived on the stream after \(accounts.count) rounds")
        #expect(alert.rule == "brute_force")
        #expect(accounts.contains(alert.subject), "the alert is one raised after subscribing, not \(alert.subject)")

        // The stream stays open: the next alert arrives on it too.
        await failLogin("later")
        #expect(try await arrived(within: .seconds(60)) { $0.contains { $0.subject == "later" } }, "\(streamed.all)")
        for seen in streamed.all where seen.subject != "later" {
            #expect(accounts.contains(seen.subject) && seen.subject != "before", "unexpected alert on the stream: \(seen)")
        }
        #expect(try await daemon.stop() == 0)
    }
}
