import Foundation
import QSMClient
import QSMTesting
import Testing

/// `qsm alerts --follow` starts with the latest alerts, as `tail -f` does, then prints each new one;
/// `--limit` says how many come first (issue 18 item 7: it started blank and ignored --limit).
@Suite("qsm alerts --follow")
struct AlertsFollowTests {
    private func bruteForce(_ user: String, _ client: QSMConnection) async {
        for _ in 0..<5 { _ = await Outcome.of(client, BrokerAPI.Login(username: user, password: "wrong-password")) }
    }

    @Test func theLatestAlertsComeFirstThenNewOnes() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        for user in ["alice", "bob", "carol"] { _ = try await client.call(BrokerAPI.Register(username: user, password: "\(user)-password")) }
        await bruteForce("alice", client)
        await bruteForce("bob", client)  // and ten failures from one uid: source_failures too

        let follower = try ChildProcess(
            Products.qsm, ["alerts", "--follow", "--limit", "2"],
            environment: ["PATH": "/usr/bin:/bin", "QSM_SOCKET": daemon.socket, "QSM_HOME": daemon.directory.appending("root"), "HOME": daemon.directory.path])
        // The latest two (bob's brute_force and the source_failures both raised), not alice's older one.
        #expect(try await follower.waitForLine(timeout: .seconds(20)) { $0.contains("brute_force") && $0.contains("bob") })
        await bruteForce("carol", client)
        #expect(try await follower.waitForLine(timeout: .seconds(20)) { $0.contains("brute_force") && $0.contains("carol") })
        follower.kill(SIGTERM)
        _ = try await follower.wait()
        #expect(!follower.lines.contains { $0.contains("alice") }, "only --limit 2 of the earlier alerts: \(follower.lines)")
        #expect(try await daemon.stop() == 0)
    }
}
