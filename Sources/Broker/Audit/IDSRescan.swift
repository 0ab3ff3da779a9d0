public import EventLog
import Foundation
import QSMEvents
import SwiftProtobuf

/// Runs the intrusion detection rules over a whole log without writing anything, and sets what they
/// would have raised beside what the log recorded. With the rules the broker ran, the two agree exactly
/// (alert ids are `rule-triggerPosition`, and rules see only events, in log order); with other
/// thresholds it shows what a stricter or looser configuration would have caught.
public enum IDSRescan {
    /// How an alert of the rescan relates to the log.
    public enum Status: String, Sendable, Codable {
        /// Both the rescan and the log raised it.
        case recorded
        /// Only the rescan raised it: these rules catch what the recorded ones missed.
        case new
        /// Only the log holds it: these rules would not have raised it.
        case notReproduced = "not-reproduced"
    }

    /// One alert, found by the rescan, the log, or both.
    public struct Finding: Sendable, Equatable {
        public let id: String
        public let rule: String
        public let severity: String
        public let subject: String
        public let summary: String
        /// The event that made the rule fire, and its time.
        public let trigger: UInt64
        public let triggerMicros: Int64
        public let evidence: [UInt64]
        public let status: Status
        /// Where the log recorded it, when it did.
        public let recordedPosition: UInt64?
    }

    /// What a rescan found, in order of trigger position.
    public struct Report: Sendable {
        public let eventsScanned: UInt64
        public let findings: [Finding]

        public func count(_ status: Status) -> Int { findings.count { $0.status == status } }
    }

    /// The event types the rules read; the rest are skipped without decoding their bodies.
    static let relevantTypes: Set<UInt32> = [
        EventType.loginFailed, .accessDenied, .keyExchangeAborted, .keyExchangeCompleted, .messageSent, .alertRaised,
        .userRegistered, .refusalsAggregated, .decryptionFailed, .recoveryCodeUsed,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Rescans `store` from position 1 to its head with `rules`; `progress` gets (scanned, head).
    public static func run(
        store: EventStore, rules: IDSRules, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> Report {
        let head = try store.head().position
        var ids = IDSProjection(rules: rules)
        var derived: [IDSProjection.Derived] = []
        var triggerTimes: [UInt64: Int64] = [:]
        var recorded: [String: (alert: QSMAlertRaised, position: UInt64)] = [:]
        var scanned: UInt64 = 0
        var failure: (any Error)?
        try store.forEach(from: 1) { stored in
            guard stored.position <= head else { return false }
            scanned = stored.position
            if scanned & 0xFFFF == 0 { progress?(scanned, head) }
            do {
                let type = try typeID(of: stored.record)
                guard relevantTypes.contains(type) else { return true }
                let event = try QSMEvent(stored)
                if case .alertRaised(let alert) = event.body {
                    recorded[alert.alertID] = (alert, stored.position)
                    return true
                }
                ids.evolve(event)
                for alert in ids.takePending() {
                    derived.append(alert)
                    triggerTimes[alert.trigger] = event.recordedAtUs
                }
            } catch {
                failure = EventLogError.corruptRecord(reason: "position \(stored.position): \(error)")
                return false
            }
            return true
        }
        if let failure { throw failure }
        progress?(scanned, head)
        var findings = derived.map { alert in
            Finding(
                id: alert.id, rule: alert.rule, severity: severityName(alert.severity), subject: alert.subject,
                summary: alert.summary, trigger: alert.trigger, triggerMicros: triggerTimes[alert.trigger] ?? 0,
                evidence: alert.evidence, status: recorded[alert.id] == nil ? .new : .recorded,
                recordedPosition: recorded[alert.id]?.position)
        }
        let found = Set(derived.map(\.id))
        for (id, entry) in recorded where !found.contains(id) {
            let alert = entry.alert
            findings.append(Finding(
                id: id, rule: alert.rule, severity: alert.severity.name, subject: alert.subject, summary: alert.summary,
                trigger: alert.triggerPosition, triggerMicros: try triggerTime(alert.triggerPosition, in: store),
                evidence: alert.evidencePositions, status: .notReproduced, recordedPosition: entry.position))
        }
        findings.sort { ($0.trigger, $0.id) < ($1.trigger, $1.id) }
        return Report(eventsScanned: scanned, findings: findings)
    }

    /// The record's type id (header field 3), read without decoding the rest: most records are skipped
    /// on it. Falls back to the full header decoder for anything unexpected.
    static func typeID(of record: Data) throws -> UInt32 {
        let found: UInt32? = record.withUnsafeBytes { bytes in
            var index = 0
            func varint() -> UInt64? {
                var value: UInt64 = 0
                var shift: UInt64 = 0
                while index < bytes.count, shift < 64 {
                    let byte = bytes[index]
                    index += 1
                    value |= UInt64(byte & 0x7F) << shift
                    if byte & 0x80 == 0 { return value }
                    shift += 7
                }
                return nil
            }
            while index < bytes.count {
                guard let tag = varint() else { return nil }
                let field = tag >> 3
                switch tag & 7 {
                case 0:
                    guard let value = varint() else { return nil }
                    if field == 3 { return UInt32(exactly: value) }
                case 2:
                    guard let length = varint(), length <= UInt64(bytes.count - index) else { return nil }
                    index += Int(length)
                default:
                    return nil
                }
                if field > 15 { return nil }  // the body: the header had no type
            }
            return nil
        }
        if let found { return found }
        return try RecordHeader(record: record).type
    }

    private static func severityName(_ raw: Int) -> String {
        QSMSeverity(rawValue: raw)?.name ?? "unknown"
    }

    private static func triggerTime(_ position: UInt64, in store: EventStore) throws -> Int64 {
        guard let stored = try store.event(at: position) else { return 0 }
        return try RecordHeader(record: stored.record).recordedAtMicros
    }
}
