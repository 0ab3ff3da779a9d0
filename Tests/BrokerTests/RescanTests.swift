import Broker
import EventLog
import Foundation
import QSMEvents
import Testing

/// The offline rescan of the intrusion detection rules (qsm forensics rescan): with the rules the broker
/// ran it must find exactly the alerts the log recorded; with other thresholds it finds what they miss.
@Suite("IDS rescan")
struct RescanTests {
    /// Alerts of five rules, a near miss of each, and a slow brute force that the default rules miss.
    private func attackedLog() async throws -> TestBroker {
        let test = try TestBroker()
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        let bob = try await broker.enrol("bob", caller: Peers.bob)
        let carol = try await broker.enrol("carol", caller: Peers.carol)
        _ = try await broker.register(username: "dave", password: "dave-password", caller: Peers.user(1004))
        // brute_force on alice, twice (the second after the lockout has passed).
        for _ in 0..<2 {
            for _ in 0..<5 { _ = try? await broker.login(username: "alice", password: "wrong-password", caller: Peers.carol) }
            test.clock.advance(seconds: 700)
        }
        // password_spraying from one peer over five accounts, and a near miss (four) from another.
        for index in 0..<5 { _ = try? await broker.login(username: "user\(index)", password: "guess-password", caller: Peers.user(2001)) }
        for index in 0..<4 { _ = try? await broker.login(username: "user\(index)", password: "guess-password", caller: Peers.user(2002)) }
        // unauthorized_access: carol tries alice's message three times.
        let sent = try await broker.send(token: bob, to: "alice", body: Data("for alice".utf8), mode: "pqc", caller: Peers.bob)
        for _ in 0..<3 { _ = try? await broker.decrypt(token: carol, messageID: sent.messageID, caller: Peers.carol) }
        // stale_token: three calls with a token that was never issued.
        for _ in 0..<3 { _ = try? await broker.inbox(token: "qsm_not-a-real-token", caller: Peers.user(3001)) }
        // qkd_abort: an eavesdropper on alice and bob's channel.
        _ = try? await broker.establishKey(
            token: alice, peer: "bob", options: KeyExchangeOptions(eavesdropper: 1), caller: Peers.alice)
        // A slow brute force on dave: four guesses every 11 minutes for two hours, never five within ten.
        for _ in 0..<11 {
            for _ in 0..<4 { _ = try? await broker.login(username: "dave", password: "guess-password", caller: Peers.user(4001)) }
            test.clock.advance(seconds: 660)
        }
        return test
    }

    private func recordedAlerts(_ log: EventStore) throws -> [String] {
        try log.positions(type: EventType.alertRaised.rawValue).map { position in
            let event = try QSMEvent(try #require(try log.event(at: position)))
            guard case .alertRaised(let alert) = event.body else { throw DaemonLessError("not an alert at \(position)") }
            return alert.alertID
        }
    }

    @Test func theRecordedRulesReproduceExactlyTheRecordedAlerts() async throws {
        let test = try await attackedLog()
        let recorded = try recordedAlerts(test.broker.log)
        let rules = Set(try await test.broker.alerts(limit: 1000, caller: Peers.admin).map(\.rule))
        #expect(rules == ["brute_force", "password_spraying", "unauthorized_access", "stale_token", "qkd_abort"])
        let report = try IDSRescan.run(store: test.broker.log, rules: test.configuration.rules)
        #expect(report.findings.map(\.id).sorted() == recorded.sorted())
        #expect(report.findings.allSatisfy { $0.status == .recorded && $0.recordedPosition != nil })
        #expect(report.eventsScanned == (try test.broker.log.head().position))
        // Nothing was written: the head did not move.
        #expect(try test.broker.log.head().position == report.eventsScanned)
        await test.broker.close()
    }

    @Test func aLowerThresholdFindsTheSlowBruteForceTheRecordedRulesMissed() async throws {
        let test = try await attackedLog()
        let live = try await test.broker.alerts(limit: 1000, caller: Peers.admin)
        #expect(!live.contains { $0.rule == "brute_force" && $0.subject == "dave" })

        var stricter = test.configuration.rules
        stricter.bruteForce = IDSRules.Threshold(count: 10, windowSeconds: 7200)
        let report = try IDSRescan.run(store: test.broker.log, rules: stricter)
        let dave = report.findings.filter { $0.rule == "brute_force" && $0.subject == "dave" }
        #expect(!dave.isEmpty && dave.allSatisfy { $0.status == .new && $0.recordedPosition == nil })
        #expect(dave.first?.evidence.count == 10)
        // Alice's fast brute force fires under neither threshold's window the same way: the five-in-ten
        // alerts are not reproduced by a rule that needs ten.
        #expect(report.findings.contains { $0.rule == "brute_force" && $0.subject == "alice" && $0.status == .notReproduced })
        // The other rules did not change, so their alerts are still recorded ones.
        #expect(report.findings.filter { $0.rule != "brute_force" }.allSatisfy { $0.status == .recorded })
        await test.broker.close()
    }
}

struct DaemonLessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
