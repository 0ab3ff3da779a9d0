@testable import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

/// The attacks of the security review (issue 16 items 4, 5, 11, 12 and 16), each replayed against a
/// broker on a real log: refusal floods, lockout abuse, username enumeration, account farming, sends
/// spread over many accounts, guessing below the per-account threshold, and an altered message.
@Suite("Abuse from one source")
struct AbuseTests {
    private func events(_ broker: Broker) async throws -> [QSMEvent] {
        try await broker.readEvents(from: 1, limit: 10_000, caller: Peers.admin)
    }

    /// The offline rescan with the same rules raises exactly what the broker recorded.
    private func expectRescanAgrees(_ test: TestBroker) throws {
        let report = try IDSRescan.run(store: test.broker.log, rules: test.configuration.rules)
        #expect(report.count(.recorded) > 0 && report.count(.new) == 0 && report.count(.notReproduced) == 0,
                "\(report.findings.filter { $0.status != .recorded })")
    }

    private func count(_ events: [QSMEvent], _ type: EventType) -> Int { events.count { $0.eventType == type } }

    /// Item 4: 500 calls with a bad token write the source's burst, then one aggregate with the count,
    /// and raise one stale_token alert (not 166) and one refusal_flood alert.
    @Test func aFloodOfBadTokensIsAggregatedAndItsAlertsDeduplicated() async throws {
        let test = try TestBroker()
        for _ in 0..<500 {
            await #expect(throws: BrokerError.noSession) { try await test.broker.inbox(token: "x", caller: Peers.carol) }
        }
        test.clock.advance(seconds: 61)
        // The next batch (any caller's command, or the writer's tick) writes the window's count.
        _ = try await test.broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        let log = try await events(test.broker)
        #expect(count(log, .accessDenied) == IDSRules().refusalBurst.count, "\(count(log, .accessDenied)) refusals recorded")
        let aggregates = log.compactMap { if case .refusalsAggregated(let a) = $0.body { a } else { nil } }
        #expect(aggregates.count == 1)
        #expect(aggregates.first?.source == "uid:1003" && aggregates.first?.count == 480)
        #expect(aggregates.first?.kinds.map(\.kind) == ["access_denied:noSession"])
        let rules = try await test.broker.alerts(limit: 100, caller: Peers.admin).map(\.rule)
        #expect(rules.sorted() == ["refusal_flood", "stale_token"], "\(rules)")
        try expectRescanAgrees(test)
        await test.broker.close()
    }

    /// Item 4: the alerts kept in memory are bounded (the log keeps every one).
    @Test func theAlertListInMemoryKeepsTheLatest() {
        var rules = IDSRules()
        rules.alertsKept = 5
        var ids = IDSProjection(rules: rules)
        for position in 1...12 {
            var event = QSMEvent()
            event.position = UInt64(position)
            event.recordedAtUs = Int64(position)
            event.body = .alertRaised(QSMAlertRaised.with {
                $0.alertID = "a-\(position)"
                $0.rule = "stale_token"
            })
            ids.evolve(event)
        }
        #expect(ids.alerts.map(\.id) == (8...12).map { "a-\($0)" })
    }

    /// Item 5: a flood of guesses from one uid over many accounts locks that uid, not the accounts:
    /// every owner still logs in from their own uid.
    @Test func guessingLocksTheSourceAndNotTheOwners() async throws {
        let test = try TestBroker()
        let owners = (0..<10).map { "user\($0)" }
        for (index, owner) in owners.enumerated() {
            _ = try await test.broker.register(username: owner, password: owner + "-password", caller: Peers.user(4000 + UInt32(index)))
        }
        for owner in owners {
            for _ in 0..<5 { _ = try? await test.broker.login(username: owner, password: "guess-password", caller: Peers.carol) }
        }
        // The attacker's uid is locked out, even with a right password...
        await #expect {
            try await test.broker.login(username: "user0", password: "user0-password", caller: Peers.carol)
        } throws: { error in
            if case BrokerError.accountLocked = error { return true }
            return false
        }
        // ...and every owner logs in from their own uid.
        for (index, owner) in owners.enumerated() {
            _ = try await test.broker.login(username: owner, password: owner + "-password", caller: Peers.user(4000 + UInt32(index)))
        }
        let alerts = try await test.broker.alerts(limit: 100, caller: Peers.admin)
        #expect(alerts.contains { $0.subject == "uid:1003" && $0.rule == "source_failures" })
        try expectRescanAgrees(test)
        // A locked source's further attempts cost no hashing and write at most its burst.
        let log = try await events(test.broker)
        #expect(log.count { if case .loginFailed(let f) = $0.body { f.reason == .throttled } else { false } } <= 20)
        await test.broker.close()
    }

    /// Item 16: four guesses on each of four accounts, then the right password on the fourth, from one
    /// uid: the per-source rule fires before it, and the login is refused.
    @Test func guessingBelowThePerAccountThresholdIsCaught() async throws {
        let test = try TestBroker()
        for index in 0..<4 {
            _ = try await test.broker.register(username: "user\(index)", password: "user\(index)-password", caller: Peers.user(4000 + UInt32(index)))
        }
        for index in 0..<4 {
            for _ in 0..<4 { _ = try? await test.broker.login(username: "user\(index)", password: "guess-password", caller: Peers.carol) }
        }
        let fifth = await outcome { try await test.broker.login(username: "user3", password: "user3-password", caller: Peers.carol) }
        #expect((try? fifth.get()) == nil, "the fifth guess must not get in")
        let rules = try await test.broker.alerts(limit: 100, caller: Peers.admin).map(\.rule)
        #expect(rules.contains("source_failures"), "\(rules)")
        // The same guesses from an administrator's uid lock only the accounts guessed 5 times, not the uid.
        _ = try await test.broker.register(username: "staff", password: "staff-password", caller: Peers.admin)
        for index in 0..<4 {
            for _ in 0..<4 { _ = try? await test.broker.login(username: "user\(index)", password: "guess-password", caller: Peers.admin) }
        }
        _ = try await test.broker.login(username: "staff", password: "staff-password", caller: Peers.admin)
        await test.broker.close()
    }

    /// Item 11: a lock says the same for a name that exists and one that does not.
    @Test func aLockTellsNothingAboutWhichNamesExist() async throws {
        let test = try TestBroker()
        _ = try await test.broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        var answers: [String: String] = [:]
        for name in ["alice", "ghost"] {
            let source = name == "alice" ? Peers.carol : Peers.user(1004)
            for _ in 0..<5 { _ = try? await test.broker.login(username: name, password: "guess-password", caller: source) }
            let sixth = await outcome { try await test.broker.login(username: name, password: "guess-password", caller: source) }
            if case .failure(BrokerError.accountLocked) = sixth { answers[name] = "\(sixth)" }
        }
        #expect(answers["alice"] != nil && answers["alice"] == answers["ghost"], "\(answers)")
        await test.broker.close()
    }

    /// Items 11 and 12: registrations from one uid are recorded and throttled past the account_farming
    /// threshold, taken names included; an administrator's bulk enrolment is not throttled.
    @Test func registrationsFromOneSourceAreThrottledButNotAnAdministrators() async throws {
        let test = try TestBroker()
        _ = try await test.broker.register(username: "victim", password: "victim-password", caller: Peers.alice)
        var registered = 0
        var throttled = 0
        for index in 0..<30 {
            // Every third attempt probes a taken name: those count too.
            let name = index % 3 == 0 ? "victim" : "farm\(index)"
            switch await outcome({ try await test.broker.register(username: name, password: "farm-password", caller: Peers.carol) }) {
            case .success: registered += 1
            case .failure(BrokerError.sourceThrottled(let what, _)) where what == "registrations": throttled += 1
            case .failure(BrokerError.usernameTaken): break
            case .failure(let error): Issue.record("unexpected \(error)")
            }
        }
        #expect(registered < 10 && throttled == 20, "registered \(registered), throttled \(throttled)")
        let alerts = try await test.broker.alerts(limit: 100, caller: Peers.admin)
        #expect(alerts.map(\.rule) == ["account_farming"] && alerts.first?.subject == "uid:1003")
        for index in 0..<30 {
            _ = try await test.broker.register(username: "staff\(index)", password: "staff-password", caller: Peers.admin)
        }
        await test.broker.close()
    }

    /// Item 12: six accounts of one uid flooding one user are throttled together; an administrator
    /// sending as much is not.
    @Test func sendsSpreadOverAccountsOfOneSourceAreThrottled() async throws {
        var rules = IDSRules()
        rules.sourceSendFlood = .init(count: 30, windowSeconds: 60)
        let test = try TestBroker(rules: rules)
        _ = try await test.broker.enrol("victim", caller: Peers.alice)
        var tokens: [String] = []
        for index in 0..<6 { tokens.append(try await test.broker.enrol("sender\(index)", caller: Peers.carol)) }
        var sent = 0
        var refused = 0
        for round in 0..<10 {
            for token in tokens {
                switch await outcome({ try await test.broker.send(token: token, to: "victim", body: Data("m\(round)".utf8), mode: "pqc", caller: Peers.carol) }) {
                case .success: sent += 1
                case .failure(BrokerError.sourceThrottled(let what, _)) where what == "messages": refused += 1
                case .failure(let error): Issue.record("unexpected \(error)")
                }
            }
        }
        #expect(sent == 30 && refused == 30, "sent \(sent), refused \(refused)")
        #expect(try await test.broker.alerts(limit: 100, caller: Peers.admin).map(\.rule) == ["source_send_flood"])
        // The same volume from an administrator's uid is not throttled.
        let admin = try await test.broker.enrol("operator", caller: Peers.admin)
        for index in 0..<60 {
            _ = try await test.broker.send(token: admin, to: "victim", body: Data("a\(index)".utf8), mode: "pqc", caller: Peers.admin)
        }
        await test.broker.close()
    }

    /// Item 16: a message altered in the log after it was sent (one byte changed while the broker runs,
    /// as someone holding the data directory could) is refused naming its id, recorded, and alerted on.
    @Test func anAlteredMessageIsRecordedAlertedAndNamed() async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        let bob = try await test.broker.enrol("bob", caller: Peers.bob)
        let sent = try await test.broker.send(token: alice, to: "bob", body: Data("meet at noon".utf8), mode: "aes", caller: Peers.alice)
        let python = ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3"
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (status, _, stderr) = try await ChildProcess.run(python, [
            root.appendingPathComponent("tools/audit/tamper.py").path, "flip", "--log", test.directory.path + "/log",
            "--position", "\(sent.position)",
        ])
        try #require(status == 0, "tamper.py: \(stderr)")
        await #expect(throws: BrokerError.integrityFailure(messageID: sent.messageID)) {
            try await test.broker.decrypt(token: bob, messageID: sent.messageID, caller: Peers.bob)
        }
        #expect(BrokerError.integrityFailure(messageID: sent.messageID).description.contains(sent.messageID))
        let log = try await events(test.broker)
        let failed = log.compactMap { if case .decryptionFailed(let f) = $0.body { f } else { nil } }
        #expect(failed.count == 1 && failed.first?.messageID.hex == sent.messageID && failed.first?.reader == "bob")
        let alert = try #require(try await test.broker.alerts(limit: 10, caller: Peers.admin).first)
        #expect(alert.rule == "message_altered" && alert.severity == "high" && alert.summary.contains(sent.messageID))
        try expectRescanAgrees(test)
        await test.broker.close()
    }
}
