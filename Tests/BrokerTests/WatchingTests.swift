import Broker
import Foundation
import Testing

@Suite("Watching")
struct WatchingTests {
    @Test func watchersSeeTheHeadAfterEveryCommitAndNewAlerts() async throws {
        let test = try TestBroker()
        let broker = test.broker
        _ = try await broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        var heads = broker.changes().makeAsyncIterator()
        let start = try #require(await heads.next())
        #expect(start == 1)
        for _ in 0..<5 { _ = try? await broker.login(username: "alice", password: "wrong-password", caller: Peers.carol) }
        // Five failures and the alert and lockout they cause: the newest head is 1 + 5 + 2.
        var latest = start
        while latest < 8, let next = await heads.next() { latest = next }
        #expect(latest == 8)
        let alerts = try await broker.alerts(after: start, caller: Peers.admin)
        #expect(alerts.map(\.rule) == ["brute_force"])
        #expect(try await broker.alerts(after: alerts[0].position, caller: Peers.admin).isEmpty)
        await broker.close()
        // Closing the broker ends the stream.
        while await heads.next() != nil {}
    }
}
