import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// The dashboard's counters and per-minute series, from event times only.
public struct DashboardProjection: Projection {
    public static let name = "dashboard"
    /// Minutes of series kept: the last 24 hours of event time.
    public static let seriesMinutes: Int64 = 24 * 60

    /// Totals since the log began.
    public struct Counters: Codable, Sendable, Equatable {
        public var registrations: UInt64 = 0
        public var loginsSucceeded: UInt64 = 0
        public var loginsFailed: UInt64 = 0
        public var keyExchanges: UInt64 = 0
        public var keyExchangesAborted: UInt64 = 0
        /// Sum of the QBER of completed exchanges, for the mean.
        public var qberSum: Double = 0
        public var keyBitsMade: UInt64 = 0
        public var keyBitsUsed: UInt64 = 0
        /// Encryptions (messages sent) by mode name.
        public var encryptions: [String: UInt64] = [:]
        /// Decryptions by mode name.
        public var decryptions: [String: UInt64] = [:]
        /// Alerts by severity name (low, medium, high, critical).
        public var alerts: [String: UInt64] = [:]
        /// Alerts by rule name, then by severity name (for metrics).
        public var alertsByRule: [String: [String: UInt64]] = [:]
        public var accessDenied: UInt64 = 0

        /// Mean QBER of completed key exchanges, 0 when there were none.
        public var meanQBER: Double { keyExchanges == 0 ? 0 : qberSum / Double(keyExchanges) }
        public var totalEncryptions: UInt64 { encryptions.values.reduce(0, +) }
        public var totalDecryptions: UInt64 { decryptions.values.reduce(0, +) }
        public var totalAlerts: UInt64 { alerts.values.reduce(0, +) }
    }

    /// What happened in one minute of event time.
    public struct Minute: Codable, Sendable, Equatable {
        public var sends: UInt64 = 0
        public var decryptions: UInt64 = 0
        public var loginsFailed: UInt64 = 0
        public var alerts: UInt64 = 0
    }

    /// The figures of one key exchange, completed or aborted, for the QBER chart.
    public struct Exchange: Codable, Sendable, Equatable {
        /// Event time, microseconds since the epoch.
        public var at: Int64
        /// The QBER measured on the sample, and its upper confidence bound (0 when the run stopped
        /// before estimating it).
        public var qber: Double
        public var qberUpperBound: Double
        /// The threshold the exchange was held to (0.11 by default).
        public var threshold: Double
        /// True when the exchange aborted (eavesdropping suspected, or no secret key).
        public var aborted: Bool
    }

    /// Key exchanges kept for the QBER chart: the most recent ones.
    public static let recentExchangeLimit = 100

    public internal(set) var counters = Counters()
    /// The latest key exchanges, oldest first, at most ``recentExchangeLimit``.
    public internal(set) var recentExchanges: [Exchange] = []
    /// Minutes (microseconds since the epoch / 60 s) as decimal strings, within the last 24 hours.
    public internal(set) var minutes: [String: Minute] = [:]
    /// The latest minute seen.
    public internal(set) var latestMinute: Int64 = 0

    public init() {}

    /// The per-minute series from oldest to newest over the last `count` minutes ending at the latest
    /// event, zeros included.
    public func series(lastMinutes count: Int64) -> [(minute: Int64, counts: Minute)] {
        let first = latestMinute - min(count, Self.seriesMinutes) + 1
        return (first...max(first, latestMinute)).map { ($0, minutes[String($0)] ?? Minute()) }
    }

    public mutating func evolve(_ event: QSMEvent) {
        evolve(event, decryptedMode: nil, consumedBits: 0)
    }

    /// Folds `event`; `decryptedMode` names the mode of the message a MessageDecrypted event read (the
    /// event itself does not carry it; the broker state looks it up in the inbox), and `consumedBits` the
    /// key bits the event took from a pool (the key pools know; an aes message under an existing block
    /// takes none).
    public mutating func evolve(_ event: QSMEvent, decryptedMode: String?, consumedBits: UInt64) {
        advance(to: event.recordedAtUs / 60_000_000)
        let minute = String(event.recordedAtUs / 60_000_000)
        switch event.body {
        case .userRegistered: counters.registrations += 1
        case .loginSucceeded: counters.loginsSucceeded += 1
        case .loginFailed:
            counters.loginsFailed += 1
            minutes[minute, default: Minute()].loginsFailed += 1
        case .keyExchangeCompleted(let e):
            counters.keyExchanges += 1
            counters.qberSum += e.figures.qber
            counters.keyBitsMade += e.figures.finalBits
            record(Exchange(at: event.recordedAtUs, qber: e.figures.qber, qberUpperBound: e.figures.qberUpperBound,
                threshold: e.figures.abortThreshold, aborted: false))
        case .keyExchangeAborted(let e):
            counters.keyExchangesAborted += 1
            record(Exchange(at: event.recordedAtUs, qber: e.figures.qber, qberUpperBound: e.figures.qberUpperBound,
                threshold: e.figures.abortThreshold, aborted: true))
        case .messageSent(let e):
            counters.encryptions[e.mode.name, default: 0] += 1
            counters.keyBitsUsed += consumedBits
            minutes[minute, default: Minute()].sends += 1
        case .messageDecrypted:
            counters.decryptions[decryptedMode ?? "unknown", default: 0] += 1
            minutes[minute, default: Minute()].decryptions += 1
        case .alertRaised(let e):
            counters.alerts[e.severity.name, default: 0] += 1
            counters.alertsByRule[e.rule, default: [:]][e.severity.name, default: 0] += 1
            minutes[minute, default: Minute()].alerts += 1
        case .accessDenied: counters.accessDenied += 1
        default: break
        }
    }

    private mutating func record(_ exchange: Exchange) {
        recentExchanges.append(exchange)
        if recentExchanges.count > Self.recentExchangeLimit {
            recentExchanges.removeFirst(recentExchanges.count - Self.recentExchangeLimit)
        }
    }

    private mutating func advance(to minute: Int64) {
        guard minute > latestMinute else { return }
        latestMinute = minute
        let oldest = minute - Self.seriesMinutes + 1
        for key in minutes.keys where (Int64(key) ?? 0) < oldest { minutes[key] = nil }
    }
}

extension QSMSeverity {
    /// low, medium, high or critical.
    public var name: String {
        switch self {
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        case .critical: "critical"
        default: "unspecified"
        }
    }
}
