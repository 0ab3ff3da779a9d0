import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import Testing

/// Each rule fires on its attack and stays quiet on a near miss just under its threshold.
@Suite("Intrusion detection")
struct IntrusionDetectionTests {
    private func rules(_ edit: (inout IDSRules) -> Void) -> IDSRules {
        var rules = IDSRules()
        edit(&rules)
        return rules
    }

    private func alertRules(_ broker: Broker) async throws -> [String] {
        try await broker.alerts(limit: 1000, caller: Peers.admin).map(\.rule).reversed()
    }

    @Test(arguments: [4, 5])
    func bruteForceOnOneAccount(failures: Int) async throws {
        let test = try TestBroker()
        _ = try await test.broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        for _ in 0..<failures {
            _ = try? await test.broker.login(username: "alice", password: "not-her-password", caller: Peers.carol)
            test.clock.advance(seconds: 60)
        }
        let fired = failures >= 5
        #expect(try await alertRules(test.broker) == (fired ? ["brute_force"] : []))
        // Locked for the guessing source only: the right password from there is refused...
        let login = await outcome { try await test.broker.login(username: "alice", password: "alice-password", caller: Peers.carol) }
        #expect((try? login.get()) == nil ? fired : !fired)
        // ...while alice, from her own uid, logs in (security review, issue 16 item 5).
        _ = try await test.broker.login(username: "alice", password: "alice-password", caller: Peers.alice)
        if fired {
            // Locked for the first lockout (5 min), then open again: never forever.
            test.clock.advance(seconds: 301)
            _ = try await test.broker.login(username: "alice", password: "alice-password", caller: Peers.carol)
        }
        await test.broker.close()
    }

    @Test func bruteForceSpreadOverMoreThanTheWindowStaysQuietAndLockoutsGrow() async throws {
        let test = try TestBroker()
        _ = try await test.broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        // Five failures, but 11 minutes apart from first to last: never five within 10 minutes.
        for _ in 0..<5 {
            _ = try? await test.broker.login(username: "alice", password: "wrong-password", caller: Peers.carol)
            test.clock.advance(seconds: 165)
        }
        #expect(try await alertRules(test.broker).isEmpty)
        // Two offences in a row: the second lockout is twice the first.
        var untils: [Int64] = []
        for _ in 0..<2 {
            for _ in 0..<5 { _ = try? await test.broker.login(username: "alice", password: "wrong-password", caller: Peers.carol) }
            let events = try await test.broker.readEvents(from: 1, limit: 10_000, caller: Peers.admin)
            let lock = try #require(events.compactMap { event -> QSMAccountLocked? in
                if case .accountLocked(let locked) = event.body { locked } else { nil }
            }.last)
            untils.append(lock.untilUs - test.clock.micros)
            test.clock.advance(seconds: Double(lock.untilUs - test.clock.micros) / 1_000_000 + 1)
        }
        #expect(untils == [300_000_000, 600_000_000])
        await test.broker.close()
    }

    @Test(arguments: [4, 5])
    func passwordSprayingFromOnePeer(accounts: Int) async throws {
        let test = try TestBroker()
        for index in 0..<accounts {
            _ = try? await test.broker.login(username: "user\(index)", password: "guess-password", caller: Peers.carol)
        }
        #expect(try await alertRules(test.broker) == (accounts >= 5 ? ["password_spraying"] : []))
        let alert = try await test.broker.alerts(caller: Peers.admin).first
        if accounts >= 5 { #expect(alert?.subject == "uid:1003" && alert?.evidence.count == 5) }
        await test.broker.close()
    }

    @Test(arguments: [9, 10])
    func failureSurgeAcrossTheSystem(failures: Int) async throws {
        let test = try TestBroker(rules: rules { $0.failureSurge = .init(count: 10, windowSeconds: 60) })
        // Each failure from another peer on another account: only the system-wide rule can see it.
        for index in 0..<failures {
            _ = try? await test.broker.login(username: "user\(index)", password: "guess-password", caller: Peers.user(2000 + UInt32(index)))
            test.clock.advance(seconds: 5)
        }
        #expect(try await alertRules(test.broker) == (failures >= 10 ? ["failure_surge"] : []))
        await test.broker.close()
    }

    @Test(arguments: [2, 3])
    func unauthorizedAccessToOtherUsersMessages(attempts: Int) async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        let carol = try await test.broker.enrol("carol", caller: Peers.carol)
        let sent = try await test.broker.send(token: alice, to: "bob", body: Data("for bob".utf8), mode: "pqc", caller: Peers.alice)
        for _ in 0..<attempts {
            await #expect(throws: BrokerError.notOwner(resource: "message \(sent.messageID)")) {
                try await test.broker.decrypt(token: carol, messageID: sent.messageID, caller: Peers.carol)
            }
        }
        #expect(try await alertRules(test.broker) == (attempts >= 3 ? ["unauthorized_access"] : []))
        await test.broker.close()
    }

    @Test func anEavesdropperOnEveryQubitAbortsRaisesAnAlertAndStoresNoKey() async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        // Near miss first: a clean exchange (1% noise) raises nothing.
        _ = try await test.broker.establishKey(token: alice, peer: "bob", caller: Peers.alice)
        #expect(try await alertRules(test.broker).isEmpty)
        let bitsBefore = test.broker.state.keyPools.pool("alice", "bob")?.pool.availableBits
        await #expect {
            try await test.broker.establishKey(
                token: alice, peer: "bob", options: KeyExchangeOptions(eavesdropper: 1), caller: Peers.alice)
        } throws: { error in
            if case BrokerError.keyExchangeAborted(let reason, let qber, _, let threshold) = error {
                return reason.contains("exceeds the threshold") && qber > 0.2 && threshold == 0.11
            }
            return false
        }
        #expect(try await alertRules(test.broker) == ["qkd_abort"])
        // The eavesdropper was asked for (a simulation option any user has): a low alert that says so.
        let simulated = try #require(test.broker.state.ids.alerts.last)
        #expect(simulated.severity == "low" && simulated.summary.contains("simulated eavesdropper"), "\(simulated)")
        #expect(test.broker.state.keyPools.pool("alice", "bob")?.pool.availableBits == bitsBefore)
        #expect(test.broker.state.keyPools.pool("alice", "bob")?.pool.segments.count == 1)
        let dashboard = test.broker.state.dashboard.counters
        #expect(dashboard.keyExchanges == 1 && dashboard.keyExchangesAborted == 1)
        await test.broker.close()
    }

    /// An abort nobody asked the simulation for (a channel this noisy looks like an intercept-resend
    /// attack) stays a high alert.
    @Test func anAbortWithoutASimulatedEavesdropperIsHigh() async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        await #expect(throws: BrokerError.self) {
            try await test.broker.establishKey(
                token: alice, peer: "bob", options: KeyExchangeOptions(noise: 0.25), caller: Peers.alice)
        }
        let alert = try #require(test.broker.state.ids.alerts.last)
        #expect(alert.rule == "qkd_abort" && alert.severity == "high" && alert.summary.contains("possible eavesdropper"))
        await test.broker.close()
    }

    @Test(arguments: [0.05, 0.07])
    func qberDriftingUp(noise: Double) async throws {
        let test = try TestBroker(rules: rules {
            $0.qberDriftSamples = 3
            $0.qberDriftLimit = 0.06
        })
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        for _ in 0..<3 {
            // 400,000 qubits: about 40,000 sample bits, so each estimate is within ±0.4% (3 sigma) of the noise
            // and the upper bound (about 2.5% above it) stays under the 11% abort threshold.
            _ = try await test.broker.establishKey(
                token: alice, peer: "bob", options: KeyExchangeOptions(qubits: 400_000, noise: noise), caller: Peers.alice)
        }
        #expect(try await alertRules(test.broker) == (noise > 0.06 ? ["qber_drift"] : []))
        await test.broker.close()
    }

    @Test(arguments: [9, 10])
    func sendFloodIsAlertedAndThrottled(sends: Int) async throws {
        let test = try TestBroker(rules: rules { $0.sendFlood = .init(count: 10, windowSeconds: 60) })
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        for index in 0..<sends {
            _ = try await test.broker.send(token: alice, to: "bob", body: Data("m\(index)".utf8), mode: "pqc", caller: Peers.alice)
        }
        #expect(try await alertRules(test.broker) == (sends >= 10 ? ["send_flood"] : []))
        let next = await outcome { try await test.broker.send(token: alice, to: "bob", body: Data("one more".utf8), mode: "pqc", caller: Peers.alice) }
        if sends >= 10 {
            #expect(throws: BrokerError.throttled(until: test.clock.micros + 60_000_000)) { try next.get() }
            test.clock.advance(seconds: 61)
            _ = try await test.broker.send(token: alice, to: "bob", body: Data("later".utf8), mode: "pqc", caller: Peers.alice)
        } else {
            _ = try next.get()
        }
        await test.broker.close()
    }

    @Test(arguments: [2, 3])
    func staleAndRevokedTokens(uses: Int) async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        try await test.broker.logout(token: alice, caller: Peers.alice)
        for _ in 0..<uses {
            await #expect(throws: BrokerError.sessionRevoked) { try await test.broker.inbox(token: alice, caller: Peers.carol) }
        }
        #expect(try await alertRules(test.broker) == (uses >= 3 ? ["stale_token"] : []))
        await test.broker.close()
    }

    @Test func expiredSessionsAreRecordedOnceAndRefused() async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        test.clock.advance(seconds: 8 * 3600 + 1)
        for _ in 0..<2 {
            await #expect(throws: BrokerError.sessionExpired) { try await test.broker.history(token: alice, caller: Peers.alice) }
        }
        let events = try await test.broker.readEvents(from: 1, limit: 100, caller: Peers.admin)
        #expect(events.filter { if case .sessionExpired = $0.body { true } else { false } }.count == 1)
        #expect(events.filter { if case .accessDenied(let d) = $0.body { d.reason == .expiredSession } else { false } }.count == 2)
        await test.broker.close()
    }
}
