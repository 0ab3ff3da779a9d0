import EventLog
import Forensics
import Foundation
import QSMEvents
import QSMTesting
import Testing

/// Every indexed answer equals a naive full scan of a 100,000-event log. The naive side is written
/// here, independently of Forensics' own filter code: a list of every decoded event and plain checks.
@Suite("Queries equal naive full scans")
struct QueryEquivalenceTests {
    /// The id of the message an event names, read the obvious way.
    private func namedMessage(_ event: QSMEvent) -> Data? {
        switch event.body {
        case .messageSent(let e)?: e.messageID
        case .messageDecrypted(let e)?: e.messageID
        case .accessDenied(let e)? where e.resource == "message":
            Data(stride(from: 0, to: e.resourceID.count, by: 2).compactMap { offset in
                let start = e.resourceID.index(e.resourceID.startIndex, offsetBy: offset)
                return UInt8(e.resourceID[start..<e.resourceID.index(start, offsetBy: 2)], radix: 16)
            })
        default: nil
        }
    }

    private func naive(_ all: [QSMEvent], _ query: EventQuery) -> [UInt64] {
        all.filter { event in
            (query.from.map { event.position >= $0 } ?? true)
                && (query.to.map { event.position <= $0 } ?? true)
                && (query.since.map { event.recordedAtUs >= $0 } ?? true)
                && (query.until.map { event.recordedAtUs < $0 } ?? true)
                && (query.types.isEmpty || query.types.map(\.rawValue).contains(event.type))
                && (query.actor.map { event.actor == $0 } ?? true)
                && (query.peerUID.map { event.hasPeer && event.peer.uid == $0 } ?? true)
                && (query.messageID.map { namedMessage(event) == $0 } ?? true)
        }.map(\.position)
    }

    @Test func everyQueryAnswersAsAFullScan() async throws {
        let generated = try await GeneratedLog.get()
        let all = generated.all
        #expect(all.count == GeneratedLog.eventCount)
        let users = generated.summary.users
        let first = generated.summary.firstMicros
        var generator = SeededGenerator(seed: 99)
        var queries: [EventQuery] = []
        func query(_ build: (inout EventQuery) -> Void) {
            var q = EventQuery()
            build(&q)
            queries.append(q)
        }
        query { $0.actor = users[3] }
        query { $0.actor = "nobody17" }
        query { $0.actor = "no-such-user" }
        query { $0.types = [.alertRaised] }
        query { $0.types = [.loginFailed, .accessDenied] }
        query { $0.peerUID = 1005 }
        query { $0.messageID = generated.summary.messageIDs[5] }
        query { $0.messageID = Data(repeating: 0xAB, count: 16) }
        query { $0.actor = users[7]; $0.types = [.messageSent]; $0.peerUID = 1007 }
        query { $0.actor = users[9]; $0.since = first + 10_000_000; $0.until = first + 30_500_000 }
        query { $0.types = [.messageDecrypted]; $0.from = 40_000; $0.to = 40_500 }
        query { $0.from = 99_990 }
        query { $0.since = first + 48_000_000; $0.until = first + 48_000_001 }
        query { $0.until = first }
        query { $0.types = [.messageSent]; $0.messageID = generated.summary.messageIDs[9] }
        query { $0.types = [.loginSucceeded]; $0.messageID = generated.summary.messageIDs[9] }
        // And random combinations.
        for _ in 0..<40 {
            query { q in
                if Bool.random(using: &generator) { q.actor = users.randomElement(using: &generator) }
                if Int.random(in: 0..<3, using: &generator) == 0 {
                    q.types = Set(EventType.allCases.shuffled(using: &generator).prefix(Int.random(in: 1...3, using: &generator)))
                }
                if Int.random(in: 0..<4, using: &generator) == 0 { q.peerUID = UInt32.random(in: 1000..<1200, using: &generator) }
                if Int.random(in: 0..<4, using: &generator) == 0 {
                    q.messageID = generated.summary.messageIDs.randomElement(using: &generator)
                }
                if Int.random(in: 0..<3, using: &generator) == 0 {
                    let a = UInt64.random(in: 1...100_000, using: &generator)
                    let b = UInt64.random(in: a...100_000, using: &generator)
                    q.from = a
                    q.to = b
                }
                if Int.random(in: 0..<3, using: &generator) == 0 {
                    let a = first + Int64.random(in: -2...50, using: &generator) * 1_000_000 + Int64.random(in: 0..<1_000_000, using: &generator)
                    q.since = a
                    q.until = a + Int64.random(in: 1...20_000_000, using: &generator)
                }
            }
        }
        var selective = 0
        for q in queries {
            let expected = naive(all, q)
            let indexed = try generated.log.events(matching: q)
            #expect(indexed.map(\.position) == expected, "\(q)")
            // Same events, not just the same positions.
            #expect(indexed == expected.map { all[Int($0) - 1] })
            if !expected.isEmpty && expected.count < 2000 { selective += 1 }
        }
        // The checks mean something: many answers are small and non-empty.
        #expect(selective >= 15)
        let plan = try generated.log.plan({ var q = EventQuery(); q.actor = users[3]; return q }())
        guard case .positions(let candidates, let indexes) = plan.access else {
            Issue.record("an actor query should read the by_actor index: \(plan)")
            return
        }
        #expect(indexes == ["by_actor"] && candidates.count == naive(all, { var q = EventQuery(); q.actor = users[3]; return q }()).count)
    }

    @Test func timelinesAnswerAsAFullScan() async throws {
        let generated = try await GeneratedLog.get()
        func concerns(_ event: QSMEvent, _ user: String) -> Bool {
            if event.actor == user { return true }
            switch event.body {
            case .userRegistered(let e)?: return e.username == user
            case .passwordChanged(let e)?: return e.username == user
            case .loginSucceeded(let e)?: return e.username == user
            case .loginFailed(let e)?: return e.username == user
            case .loggedOut(let e)?: return e.username == user
            case .sessionExpired(let e)?: return e.username == user
            case .keyExchangeCompleted(let e)?: return e.initiator == user || e.peer == user
            case .keyExchangeAborted(let e)?: return e.initiator == user || e.peer == user
            case .messageSent(let e)?: return e.sender == user || e.recipient == user
            case .messageDecrypted(let e)?: return e.reader == user || e.sender == user
            case .accessDenied(let e)?: return e.username == user || e.owner == user
            case .alertRaised(let e)?: return e.subject == user
            case .accountLocked(let e)?: return e.username == user
            case .accountUnlocked(let e)?: return e.username == user
            default: return false
            }
        }
        let users = generated.summary.users
        for user in [users[0], users[42], users[199], "nobody5", "user1"] {
            let expected = generated.all.filter { concerns($0, user) }
            let timeline = try generated.log.timeline(of: user)
            #expect(timeline.map(\.event) == expected, "\(user)")
            // Roles say how: a message to them is marked recipient, not actor.
            for entry in timeline {
                #expect(entry.roles.contains(.actor) == (entry.event.actor == user))
                if case .messageSent(let e)? = entry.event.body, e.recipient == user { #expect(entry.roles.contains(.recipient)) }
            }
            #expect(timeline.contains { !$0.roles.contains(.actor) } || user.hasPrefix("nobody"))
        }
        // With a time window.
        var window = EventQuery()
        window.since = generated.summary.firstMicros + 5_000_000
        window.until = generated.summary.firstMicros + 9_000_000
        let expected = generated.all.filter {
            concerns($0, users[8]) && $0.recordedAtUs >= window.since! && $0.recordedAtUs < window.until!
        }
        #expect(try generated.log.timeline(of: users[8], query: window).map(\.event) == expected)
        #expect(!expected.isEmpty)
    }

    @Test func messageReportsAnswerAsAFullScan() async throws {
        let generated = try await GeneratedLog.get()
        var withDenials = 0
        var withReads = 0
        let ids = Array(generated.summary.messageIDs.prefix(40)) + [Data(repeating: 0, count: 16)]
        // One pass over the log for every id (not one per id: this runs in debug builds).
        let wanted = Set(ids)
        var namedBy: [Data: [QSMEvent]] = [:]
        var alertEvents: [(QSMEvent, QSMAlertRaised)] = []
        for event in generated.all {
            if let id = namedMessage(event), wanted.contains(id) { namedBy[id, default: []].append(event) }
            if case .alertRaised(let alert)? = event.body { alertEvents.append((event, alert)) }
        }
        for (index, id) in ids.enumerated() {
            let named = namedBy[id] ?? []
            let cited = Set(named.map(\.position))
            let alerts = alertEvents.filter { _, alert in
                cited.contains(alert.triggerPosition) || alert.evidencePositions.contains(where: cited.contains)
            }.map(\.0)
            let report = try generated.log.message(id)
            let sent = named.filter { if case .messageSent? = $0.body { true } else { false } }
            let reads = named.filter { if case .messageDecrypted? = $0.body { true } else { false } }
            let denied = named.filter { if case .accessDenied? = $0.body { true } else { false } }
            #expect(report.sent == sent)
            #expect(report.reads == reads)
            #expect(report.denied == denied)
            #expect(report.alerts == (cited.isEmpty ? [] : alerts))
            #expect(report.isEmpty == named.isEmpty)
            if !denied.isEmpty { withDenials += 1 }
            if !reads.isEmpty { withReads += 1 }
            // The same report without indexes (a full scan), for a few.
            if index % 10 == 0 { #expect(try generated.log.message(id, useIndexes: false) == report) }
        }
        #expect(withDenials > 0 && withReads > 0)
    }
}
