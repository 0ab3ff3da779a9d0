import Broker
import EventLog
import Foundation
import Synchronization
import Testing

@Suite("Watching")
struct WatchingTests {
    /// Heads a watcher has seen, collected by a task of their own so the test never blocks on the stream.
    private final class Seen: Sendable {
        let heads = Mutex<[UInt64]>([])
        let ended = Mutex(false)
    }

    /// Waits until `condition` holds for what was seen, for at most 10 s.
    private func waitFor(_ seen: Seen, _ what: String, _ condition: ([UInt64]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(seen.heads.withLock { $0 }) {
            guard ContinuousClock.now < deadline else {
                Issue.record("after 10 s the watcher has not seen \(what); it saw \(seen.heads.withLock { $0 })")
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// A watcher that keeps up sees the head after every commit, in order, each once; the alert the
    /// commits raise is there to read; closing the broker ends the stream.
    @Test func watchersSeeTheHeadAfterEveryCommitAndNewAlerts() async throws {
        let test = try TestBroker()
        let broker = test.broker
        _ = try await broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        let seen = Seen()
        let stream = broker.changes()
        let watcher = Task {
            for await head in stream { seen.heads.withLock { $0.append(head) } }
            seen.ended.withLock { $0 = true }
        }
        try await waitFor(seen, "the head at subscription") { $0 == [1] }
        var expected: [UInt64] = [1]
        for _ in 0..<5 {
            _ = try? await broker.login(username: "alice", password: "wrong-password", caller: Peers.carol)
            // Each failed login is its own commit; the fifth carries the alert and the lockout with it.
            let head = try broker.log.head().position
            expected.append(head)
            try await waitFor(seen, "head \(head)") { $0.last == head }
        }
        #expect(seen.heads.withLock { $0 } == expected)
        #expect(expected.last == 1 + 5 + 2, "five failures, the alert and the lockout")
        let alerts = try await broker.alerts(after: 1, caller: Peers.admin)
        #expect(alerts.map(\.rule) == ["brute_force"])
        #expect(try await broker.alerts(after: alerts[0].position, caller: Peers.admin).isEmpty)
        await broker.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while !seen.ended.withLock({ $0 }) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(seen.ended.withLock { $0 }, "closing the broker ends the stream")
        watcher.cancel()
    }
}
