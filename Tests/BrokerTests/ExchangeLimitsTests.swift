import Broker
import Foundation
import Synchronization
import Testing

/// Key exchanges cannot take the broker from other users (security review, issue 16 item 6): each user
/// has a qubit budget per window, exchanges run on a bounded pool of their own threads while logins and
/// sends go on, and an exchange whose caller has gone is dropped or stopped.
@Suite("Key exchanges: budget, pool and cancellation")
struct ExchangeLimitsTests {
    /// The budget counts EstablishKey and the exchanges Send runs alike, per user, and refills as the
    /// window slides past the charges.
    @Test func theQubitBudgetRefusesWhatIsOverItPerUserAndWindow() async throws {
        let test = try TestBroker {
            $0.qubitBudget = 90_000
            $0.qubitBudgetWindowSeconds = 60
        }
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        let bob = try await broker.enrol("bob", caller: Peers.bob)
        _ = try await broker.enrol("carol", caller: Peers.carol)
        let start = test.clock.micros
        _ = try await broker.establishKey(
            token: alice, peer: "bob", options: KeyExchangeOptions(qubits: 60_000), caller: Peers.alice)
        test.clock.advance(seconds: 10)
        let refused = await outcome {
            try await broker.establishKey(
                token: alice, peer: "bob", options: KeyExchangeOptions(qubits: 60_000), caller: Peers.alice)
        }
        // The first charge leaves the window 60 s after it was made.
        let expected = BrokerError.qubitBudgetExceeded(limit: 90_000, windowSeconds: 60, until: start + 60_000_000)
        #expect(throws: expected) { try refused.get() }
        // A send to a pair without a pool runs an exchange first: charged alike, refused alike.
        let send = await outcome {
            try await broker.send(token: alice, to: "carol", body: Data("hello".utf8), mode: "otp", caller: Peers.alice)
        }
        #expect(throws: expected) { try send.get() }
        // Another user's budget is their own.
        _ = try await broker.establishKey(
            token: bob, peer: "carol", options: KeyExchangeOptions(qubits: 60_000), caller: Peers.bob)
        // One request over the whole budget can never pass: refused as bad input.
        await #expect(throws: BrokerError.invalidParameter(
            name: "qubits", reason: "200000 is over the budget of 90000 qubits per user in 60 s"))
        {
            _ = try await broker.establishKey(
                token: bob, peer: "alice", options: KeyExchangeOptions(qubits: 200_000), caller: Peers.bob)
        }
        // Past the first charge's window: the send's exchange (40,000) and one more of 40,000 fit again.
        test.clock.advance(seconds: 51)
        _ = try await broker.send(token: alice, to: "carol", body: Data("hello".utf8), mode: "otp", caller: Peers.alice)
        _ = try await broker.establishKey(
            token: alice, peer: "bob", options: KeyExchangeOptions(qubits: 40_000), caller: Peers.alice)
        await broker.close()
    }

    /// Long exchanges, more than there are cores, queue on the pool's one thread; meanwhile another user
    /// logs in and sends (Argon2id and X-Wing on the crypto queue) before any exchange has finished. On
    /// the old crypto queue, as wide as the core count, the exchanges held every thread and the login
    /// waited for them (29 s instead of 0.06 s in the review).
    @Test func loginsAndSendsGoOnWhileLongExchangesQueue() async throws {
        let test = try TestBroker {
            $0.exchangeThreads = 1
            $0.qubitBudget = 0
            // The broker's real cost, so the login does work on the crypto queue that a slot there needs.
            $0.passwordMemoryKiB = 19 * 1024
            $0.passwordIterations = 2
        }
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        _ = try await broker.enrol("bob", caller: Peers.bob)
        _ = try await broker.enrol("carol", caller: Peers.carol)
        _ = try await broker.enrol("dave", caller: Peers.user(1004))
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let finished = SharedCounter()
        let exchanges = (0..<count).map { _ in
            Task {
                // Ten million qubits: seconds of CPU each, far longer than a login.
                _ = try? await broker.establishKey(
                    token: alice, peer: "bob", options: KeyExchangeOptions(qubits: 10_000_000), caller: Peers.alice)
                finished.add()
            }
        }
        try await waitUntil { broker.exchangeStatistics.running + broker.exchangeStatistics.waiting == count }
        let carol = try await broker.login(username: "carol", password: "carol-password", caller: Peers.carol).token
        _ = try await broker.send(token: carol, to: "dave", body: Data("hi".utf8), mode: "pqc", caller: Peers.carol)
        #expect(finished.value == 0, "the login and the send waited for an exchange")
        let statistics = broker.exchangeStatistics
        #expect(statistics.mostRunning == 1 && statistics.waiting == count - 1, "\(statistics)")
        for exchange in exchanges { exchange.cancel() }
        for exchange in exchanges { await exchange.value }
        await broker.close()
    }

    /// Cancelling the caller's task (what the Varlink server does when the connection closes) drops a
    /// queued exchange at once, with its qubits given back, and stops a running one between BB84's stages;
    /// neither records anything.
    @Test func aCancelledExchangeStopsAndRecordsNothing() async throws {
        let test = try TestBroker {
            $0.exchangeThreads = 1
            $0.qubitBudget = 20_000_000
        }
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        _ = try await broker.enrol("bob", caller: Peers.bob)
        func exchange() -> Task<KeyExchangeReport, any Error> {
            Task {
                try await broker.establishKey(
                    token: alice, peer: "bob", options: KeyExchangeOptions(qubits: 10_000_000), caller: Peers.alice)
            }
        }
        let running = exchange()
        try await waitUntil { broker.exchangeStatistics.running == 1 }
        let queued = exchange()
        try await waitUntil { broker.exchangeStatistics.waiting == 1 }
        queued.cancel()
        await #expect(throws: BrokerError.self) { _ = try await queued.value }
        #expect(broker.exchangeStatistics.waiting == 0 && broker.exchangeStatistics.running == 1)
        running.cancel()
        await #expect(throws: BrokerError.self) { _ = try await running.value }
        let statistics = broker.exchangeStatistics
        #expect(statistics.running == 0 && statistics.cancelled == 2 && statistics.finished == 0, "\(statistics)")
        #expect(broker.state.keyPools.pool("alice", "bob") == nil)
        #expect(broker.state.dashboard.counters.keyExchanges == 0)
        // The queued exchange's qubits were given back, the stopped one's were spent: of the budget of
        // twenty million, one more exchange of ten million is admitted, and a second is refused.
        let third = exchange()
        try await waitUntil { broker.exchangeStatistics.running == 1 }
        let refusal = await outcome { try await exchange().value }
        guard case .failure(BrokerError.qubitBudgetExceeded) = refusal else {
            Issue.record("a fourth exchange of ten million qubits was not refused: \(refusal)")
            return
        }
        third.cancel()
        _ = await outcome { try await third.value }
        await broker.close()
    }

    /// Polls `condition` every 10 ms for up to a minute (the machine may be busy); fails the test if it never holds.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the condition never held")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
