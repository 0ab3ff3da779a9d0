public import Foundation
import EventLog
import SwiftProtobuf
import Synchronization

/// Thresholds of the intrusion detection rules. The defaults and the reasoning behind them are in
/// docs/ids.md; a rules file (JSON with any of these fields) overrides them.
public struct IDSRules: Codable, Sendable, Equatable {
    /// A count of events within a window of event time. A count of 0 turns the rule off.
    public struct Threshold: Codable, Sendable, Equatable {
        public var count: Int
        public var windowSeconds: Int64

        public init(count: Int, windowSeconds: Int64) {
            self.count = count
            self.windowSeconds = windowSeconds
        }

        var windowMicros: Int64 { windowSeconds * 1_000_000 }
    }

    /// Failed logins on one account from one source (fail2ban's default: 5 in 10 minutes). Locks that
    /// account for that source only, so the owner still logs in from elsewhere.
    public var bruteForce = Threshold(count: 5, windowSeconds: 600)
    /// One source failing on this many distinct accounts (CrowdSec's spraying scenarios use about 5).
    /// Locks every login from the source.
    public var passwordSpraying = Threshold(count: 5, windowSeconds: 600)
    /// Failed logins from one source over any accounts: catches guessing spread below both thresholds
    /// above (four guesses on each of four accounts). Locks every login from the source.
    public var sourceFailures = Threshold(count: 10, windowSeconds: 600)
    /// Wrong second-factor codes on one account from any source, after a right password (someone holds
    /// the password): a critical alert, and logins to the account from every source are locked with the
    /// same growing back-off as brute force.
    public var secondFactorFailures = Threshold(count: 5, windowSeconds: 600)
    /// Registration attempts (successful or refused as taken) from one source: account farming and
    /// username enumeration. Throttles the source's registrations, administrators excepted.
    public var accountFarming = Threshold(count: 10, windowSeconds: 600)
    /// Messages sent from one source, over all its accounts (twice one user's `sendFlood`). Throttles
    /// the source's sends, administrators excepted.
    public var sourceSendFlood = Threshold(count: 240, windowSeconds: 60)
    /// Refusals from one source recorded one by one per window; past the count they are only counted,
    /// in one refusals_aggregated event per window.
    public var refusalBurst = Threshold(count: 20, windowSeconds: 60)
    /// Refusals left out of the log by `refusalBurst` in one window that raise a refusal_flood alert.
    public var refusalFloodCount = 100
    /// A rule raises at most one alert per subject in this time; later firings are counted into the
    /// next alert. Alerts that lock an account are always raised.
    public var alertQuietSeconds: Int64 = 600
    /// Alerts kept in memory for the Alerts and WatchAlerts calls (the oldest go; the log keeps all).
    public var alertsKept = 10_000
    /// Failed logins across the whole system.
    public var failureSurge = Threshold(count: 50, windowSeconds: 60)
    /// A user refused access to other users' data.
    public var unauthorizedAccess = Threshold(count: 3, windowSeconds: 600)
    /// Aborted key exchanges of one pair (1: every abort is a possible eavesdropper).
    public var keyExchangeAborts = Threshold(count: 1, windowSeconds: 3600)
    /// Completed exchanges whose mean QBER, over the last `qberDriftSamples`, reaches this.
    public var qberDriftLimit = 0.06
    public var qberDriftSamples = 5
    /// Messages sent by one user.
    public var sendFlood = Threshold(count: 120, windowSeconds: 60)
    /// Calls by one peer with expired, revoked or unknown tokens.
    public var staleTokens = Threshold(count: 3, windowSeconds: 600)
    /// First lockout after brute force; each repeat offence within `offenceMemorySeconds` doubles it.
    public var lockoutSeconds: Int64 = 300
    /// Longest lockout: OWASP prefers growing delays to locking an account for good.
    public var maxLockoutSeconds: Int64 = 3600
    /// First send throttle after a flood; doubles like lockouts.
    public var throttleSeconds: Int64 = 60
    /// How long an offence counts towards the next one's length.
    public var offenceMemorySeconds: Int64 = 86_400

    public init() {}

    /// Reads a rules file: JSON whose fields override the defaults.
    public init(file path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw IDSRulesError(path: path, reason: "cannot read it: \(error.localizedDescription)")
        }
        try self.init(json: data, source: path)
    }

    /// Rules from JSON whose fields override the defaults; every threshold must be positive.
    public init(json: Data, source: String = "rules") throws {
        do {
            self = try JSONDecoder().decode(IDSRules.self, from: json)
        } catch {
            throw IDSRulesError(path: source, reason: "not a valid rules file: \(error)")
        }
        try validate(source: source)
    }

    /// The longest window or penalty a rules file may set: ten years. Durations become microseconds
    /// added to event times, so an unbounded one would overflow; nothing useful needs longer.
    public static let maxDurationSeconds: Int64 = 10 * 366 * 86_400

    func validate(source: String) throws {
        let thresholds: [(String, Threshold)] = [
            ("bruteForce", bruteForce), ("passwordSpraying", passwordSpraying), ("failureSurge", failureSurge),
            ("unauthorizedAccess", unauthorizedAccess), ("keyExchangeAborts", keyExchangeAborts),
            ("sendFlood", sendFlood), ("staleTokens", staleTokens), ("sourceFailures", sourceFailures),
            ("accountFarming", accountFarming), ("sourceSendFlood", sourceSendFlood), ("refusalBurst", refusalBurst),
            ("secondFactorFailures", secondFactorFailures),
        ]
        for (name, threshold) in thresholds where threshold.count < 0 {
            throw IDSRulesError(path: source, reason: "\(name) needs a count of at least 0 (0: off)")
        }
        guard refusalFloodCount >= 0, alertsKept >= 1 else {
            throw IDSRulesError(path: source, reason: "refusalFloodCount must be at least 0 (0: off) and alertsKept at least 1")
        }
        guard qberDriftLimit > 0, qberDriftLimit <= 1, qberDriftSamples >= 1 else {
            throw IDSRulesError(path: source, reason: "qberDriftLimit must be in (0, 1] and qberDriftSamples >= 1")
        }
        let durations: [(String, Int64)] =
            thresholds.map { ("\($0.0).windowSeconds", $0.1.windowSeconds) } + [
                ("lockoutSeconds", lockoutSeconds), ("maxLockoutSeconds", maxLockoutSeconds),
                ("throttleSeconds", throttleSeconds), ("offenceMemorySeconds", offenceMemorySeconds),
                ("alertQuietSeconds", alertQuietSeconds),
            ]
        for (name, seconds) in durations where !(1...Self.maxDurationSeconds).contains(seconds) {
            throw IDSRulesError(
                path: source, reason: "\(name) is \(seconds) s; it must lie between 1 s and \(Self.maxDurationSeconds) s (ten years)")
        }
        guard maxLockoutSeconds >= lockoutSeconds else {
            throw IDSRulesError(path: source, reason: "maxLockoutSeconds must be at least lockoutSeconds")
        }
    }

    enum CodingKeys: String, CodingKey {
        case bruteForce, passwordSpraying, failureSurge, unauthorizedAccess, keyExchangeAborts, qberDriftLimit
        case qberDriftSamples, sendFlood, staleTokens, lockoutSeconds, maxLockoutSeconds, throttleSeconds
        case offenceMemorySeconds, sourceFailures, accountFarming, sourceSendFlood, refusalBurst, refusalFloodCount
        case alertQuietSeconds, alertsKept, secondFactorFailures
    }

    public init(from decoder: any Swift.Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bruteForce = try c.decodeIfPresent(Threshold.self, forKey: .bruteForce) ?? bruteForce
        passwordSpraying = try c.decodeIfPresent(Threshold.self, forKey: .passwordSpraying) ?? passwordSpraying
        failureSurge = try c.decodeIfPresent(Threshold.self, forKey: .failureSurge) ?? failureSurge
        unauthorizedAccess = try c.decodeIfPresent(Threshold.self, forKey: .unauthorizedAccess) ?? unauthorizedAccess
        keyExchangeAborts = try c.decodeIfPresent(Threshold.self, forKey: .keyExchangeAborts) ?? keyExchangeAborts
        qberDriftLimit = try c.decodeIfPresent(Double.self, forKey: .qberDriftLimit) ?? qberDriftLimit
        qberDriftSamples = try c.decodeIfPresent(Int.self, forKey: .qberDriftSamples) ?? qberDriftSamples
        sendFlood = try c.decodeIfPresent(Threshold.self, forKey: .sendFlood) ?? sendFlood
        staleTokens = try c.decodeIfPresent(Threshold.self, forKey: .staleTokens) ?? staleTokens
        lockoutSeconds = try c.decodeIfPresent(Int64.self, forKey: .lockoutSeconds) ?? lockoutSeconds
        maxLockoutSeconds = try c.decodeIfPresent(Int64.self, forKey: .maxLockoutSeconds) ?? maxLockoutSeconds
        throttleSeconds = try c.decodeIfPresent(Int64.self, forKey: .throttleSeconds) ?? throttleSeconds
        offenceMemorySeconds = try c.decodeIfPresent(Int64.self, forKey: .offenceMemorySeconds) ?? offenceMemorySeconds
        sourceFailures = try c.decodeIfPresent(Threshold.self, forKey: .sourceFailures) ?? sourceFailures
        accountFarming = try c.decodeIfPresent(Threshold.self, forKey: .accountFarming) ?? accountFarming
        sourceSendFlood = try c.decodeIfPresent(Threshold.self, forKey: .sourceSendFlood) ?? sourceSendFlood
        refusalBurst = try c.decodeIfPresent(Threshold.self, forKey: .refusalBurst) ?? refusalBurst
        refusalFloodCount = try c.decodeIfPresent(Int.self, forKey: .refusalFloodCount) ?? refusalFloodCount
        alertQuietSeconds = try c.decodeIfPresent(Int64.self, forKey: .alertQuietSeconds) ?? alertQuietSeconds
        alertsKept = try c.decodeIfPresent(Int.self, forKey: .alertsKept) ?? alertsKept
        secondFactorFailures = try c.decodeIfPresent(Threshold.self, forKey: .secondFactorFailures) ?? secondFactorFailures
    }
}

/// A rules file that cannot be used, and why.
public struct IDSRulesError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "IDS rules \(path): \(reason)" }
}
