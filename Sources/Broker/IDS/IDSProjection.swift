import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// Intrusion detection as a projection: sliding windows of event time per rule and subject. When a rule
/// fires it queues a derived alert (and a lockout for brute force) whose id comes from the triggering
/// position; the broker appends it right after the trigger, in the same transaction, and replaying the
/// log meets the recorded alert where the rule fires again, so no alert is ever raised twice.
public struct IDSProjection: Projection {
    public static let name = "ids"

    /// The rules; configuration, not state: not encoded, set by the owner after decoding.
    public var rules = IDSRules()

    /// An event inside a rule's window.
    public struct Mark: Codable, Sendable, Equatable {
        public var at: Int64
        public var position: UInt64
        /// What the rule needs besides time: the account for spraying.
        public var detail: String
    }

    /// A recorded alert.
    public struct Alert: Codable, Sendable, Equatable {
        public var id: String
        public var rule: String
        public var severity: String
        public var subject: String
        public var summary: String
        public var evidence: [UInt64]
        public var trigger: UInt64
        /// The AlertRaised event's position and time.
        public var position: UInt64
        public var at: Int64
    }

    /// An alert a rule decided on that the broker has yet to append.
    public struct Derived: Codable, Sendable, Equatable {
        public var id: String
        public var rule: String
        public var severity: Int
        public var subject: String
        public var summary: String
        public var evidence: [UInt64]
        public var trigger: UInt64
        /// For brute force: lock `subject` until this time, at this level of repetition.
        public var lockUntil: Int64?
        public var level: UInt32
        /// For brute force: the source the lock holds for (empty: every source).
        public var lockSource: String = ""
    }

    /// Repeated offences of one rule by one subject: their number and the last one's time.
    public struct Offence: Codable, Sendable, Equatable {
        public var level: UInt32
        public var lastAt: Int64
    }

    /// Failed logins by account and source ("alice\nuid:65534"): brute force.
    public internal(set) var accountFailures: [String: [Mark]] = [:]
    /// Failed logins by source, with the account in `detail`: spraying.
    public internal(set) var peerFailures: [String: [Mark]] = [:]
    /// Failed logins by source over any accounts.
    public internal(set) var sourceFailures: [String: [Mark]] = [:]
    public internal(set) var systemFailures: [Mark] = []
    public internal(set) var denials: [String: [Mark]] = [:]
    public internal(set) var staleTokens: [String: [Mark]] = [:]
    public internal(set) var sends: [String: [Mark]] = [:]
    /// Messages sent by source, over all its accounts.
    public internal(set) var sourceSends: [String: [Mark]] = [:]
    /// Registration attempts by source.
    public internal(set) var registrations: [String: [Mark]] = [:]
    public internal(set) var aborts: [String: [Mark]] = [:]
    public internal(set) var qber: [String: [Mark]] = [:]
    public internal(set) var offences: [String: Offence] = [:]
    /// Users whose sends are refused until the given time (a flood's throttle).
    public internal(set) var throttledUntil: [String: Int64] = [:]
    /// Logins refused for one account from one source ("alice\nuid:65534") until the given time.
    public internal(set) var loginLocks: [String: Int64] = [:]
    /// Sources whose logins (to any account) are refused until the given time.
    public internal(set) var sourceLocks: [String: Int64] = [:]
    /// Sources whose registrations, and whose sends, are refused until the given time (administrators
    /// excepted: the deciders check).
    public internal(set) var registrationThrottles: [String: Int64] = [:]
    public internal(set) var sendThrottles: [String: Int64] = [:]
    /// The current window of recorded refusals by source.
    public internal(set) var refusals: [String: RefusalWindow] = [:]
    /// The time of the last alert by rule and subject ("rule\nsubject"), and the firings left out since.
    public internal(set) var lastAlerts: [String: Int64] = [:]
    public internal(set) var quietFirings: [String: Int] = [:]
    /// The latest `rules.alertsKept` alerts, oldest first.
    public internal(set) var alerts: [Alert] = []
    /// Derived alerts not yet met in the log. Empty between commands.
    public internal(set) var pending: [Derived] = []

    /// Refusals recorded one by one for a source since `start`.
    public struct RefusalWindow: Codable, Sendable, Equatable {
        public var start: Int64
        public var count: Int
    }

    public init() {}

    /// Creates an empty projection with `rules`.
    public init(rules: IDSRules) { self.rules = rules }

    enum CodingKeys: String, CodingKey {
        case accountFailures, peerFailures, systemFailures, denials, staleTokens, sends, aborts, qber, offences
        case throttledUntil, alerts, pending, sourceFailures, sourceSends, registrations, loginLocks, sourceLocks
        case registrationThrottles, sendThrottles, refusals, lastAlerts, quietFirings
    }

    /// Takes the derived alerts queued by the last evolve.
    public mutating func takePending() -> [Derived] {
        defer { pending.removeAll() }
        return pending
    }

    /// The subject a peer-based rule names: the peer's uid, or "local" for in-process callers.
    public static func peerSubject(_ event: QSMEvent) -> String {
        event.hasPeer ? CallSource.uid(event.peer.uid).text : CallSource.local.text
    }

    /// The source of an event, as `Caller.source` named it when it was decided: the body's source where
    /// it has one (logs from before it existed have none), otherwise the record header's peer.
    public static func source(of event: QSMEvent) -> String {
        switch event.body {
        case .loginFailed(let failed) where !failed.source.isEmpty: failed.source
        case .accessDenied(let denied) where !denied.source.isEmpty: denied.source
        case .refusalsAggregated(let aggregated): aggregated.source
        default: peerSubject(event)
        }
    }

    public mutating func evolve(_ event: QSMEvent) {
        let mark = Mark(at: event.recordedAtUs, position: event.position, detail: "")
        switch event.body {
        case .loginFailed(let failed):
            countRefusal(event)
            if failed.reason == .badPassword || failed.reason == .unknownUser { loginFailed(failed, event: event, mark: mark) }
            if failed.reason == .badSecondFactor { secondFactorFailed(failed.username, event: event, mark: mark) }
        case .accessDenied(let denied):
            countRefusal(event)
            if denied.reason == .notOwner {
                count(\.denials, denied.username, mark, rules.unauthorizedAccess, rule: "unauthorized_access",
                      severity: .high, event: event,
                      summary: "\(denied.username) was refused other users' data \(rules.unauthorizedAccess.count) times")
            } else if [.expiredSession, .revokedSession, .noSession].contains(denied.reason) {
                let peer = Self.source(of: event)
                count(\.staleTokens, peer, mark, rules.staleTokens, rule: "stale_token", severity: .medium,
                      event: event, summary: "\(peer) used expired, revoked or unknown tokens \(rules.staleTokens.count) times")
            } else if denied.reason == .usernameTaken {
                registrationAttempt(event, mark: mark)
            } else if denied.reason == .badSecondFactor && denied.method != "ConfirmSecondFactor" {
                // Wrong codes while enrolling protect nothing yet (the factor is off): typos, not guessing.
                secondFactorFailed(denied.username, event: event, mark: mark)
            }
        case .recoveryCodeUsed(let used):
            recoveryCodeUsed(used, event: event, mark: mark)
        case .userRegistered:
            registrationAttempt(event, mark: mark)
        case .refusalsAggregated(let aggregated):
            refusalsAggregated(aggregated, event: event, mark: mark)
        case .decryptionFailed(let failed):
            let id = failed.messageID.hex
            raise(rule: "message_altered", severity: .high, subject: "message:\(id)", evidence: [mark], event: event,
                  summary: "message \(id) from \(failed.sender) to \(failed.reader) (\(failed.mode)) failed authentication: "
                      + "its ciphertext, key material or context was altered after it was sent")
        case .keyExchangeAborted(let aborted):
            let pair = KeyPoolsProjection.pairKey(aborted.initiator, aborted.peer)
            // An eavesdropper the initiator asked the simulation for is a demonstration, not an attack:
            // any user could otherwise raise high-severity alerts at will (security review, issue 16).
            let simulated = aborted.figures.eavesdropperFraction > 0
            count(\.aborts, pair, mark, rules.keyExchangeAborts, rule: "qkd_abort", severity: simulated ? .low : .high,
                  event: event, subject: aborted.initiator,
                  summary: "key exchange \(aborted.initiator)-\(aborted.peer) aborted: QBER bound "
                      + "\(HistoryLines.percent(aborted.figures.qberUpperBound)), "
                      + (simulated ? "with a simulated eavesdropper the initiator asked for" : "possible eavesdropper"))
        case .keyExchangeCompleted(let completed):
            qberSample(completed, event: event)
        case .messageSent(let sent):
            let fired = count(\.sends, sent.sender, mark, rules.sendFlood, rule: "send_flood", severity: .medium,
                              event: event, summary: "\(sent.sender) sent \(rules.sendFlood.count) messages "
                                  + "within \(rules.sendFlood.windowSeconds) s")
            if let level = fired {
                let seconds = Self.grown(rules.throttleSeconds, level: level, max: rules.maxLockoutSeconds)
                throttledUntil[sent.sender] = event.recordedAtUs + seconds * 1_000_000
            }
            sourceSend(event, mark: mark)
        case .alertRaised(let raised):
            pending.removeAll { $0.id == raised.alertID }
            alerts.append(Alert(
                id: raised.alertID, rule: raised.rule, severity: raised.severity.name, subject: raised.subject,
                summary: raised.summary, evidence: raised.evidencePositions, trigger: raised.triggerPosition,
                position: event.position, at: event.recordedAtUs))
            // The log keeps every alert; memory keeps the latest (a flood must not grow it without end).
            if alerts.count > rules.alertsKept { alerts.removeFirst(alerts.count - rules.alertsKept) }
        default:
            break
        }
    }

    private mutating func qberSample(_ completed: QSMKeyExchangeCompleted, event: QSMEvent) {
        let pair = KeyPoolsProjection.pairKey(completed.initiator, completed.peer)
        var samples = qber[pair] ?? []
        // The QBER rides in `detail` as a decimal string so the state stays integer- and string-keyed.
        samples.append(Mark(at: event.recordedAtUs, position: event.position, detail: String(completed.figures.qber)))
        if samples.count > rules.qberDriftSamples { samples.removeFirst(samples.count - rules.qberDriftSamples) }
        let values = samples.compactMap { Double($0.detail) }
        let mean = values.reduce(0, +) / Double(max(values.count, 1))
        if samples.count >= rules.qberDriftSamples && mean >= rules.qberDriftLimit {
            raise(rule: "qber_drift", severity: .medium, subject: completed.initiator, evidence: samples, event: event,
                  summary: "mean QBER of the last \(samples.count) exchanges \(completed.initiator)-\(completed.peer) "
                      + "is \(HistoryLines.percent(mean)), at or above \(HistoryLines.percent(rules.qberDriftLimit))")
            samples.removeAll()
        }
        qber[pair] = samples.isEmpty ? nil : samples
    }

    /// Adds `mark` to `subject`'s window; when the window holds `threshold.count` marks the rule fires
    /// (and the window empties, so the next alert needs as many again). Returns the offence level if it fired.
    @discardableResult
    mutating func count(
        _ windows: WritableKeyPath<IDSProjection, [String: [Mark]]>, _ key: String, _ mark: Mark,
        _ threshold: IDSRules.Threshold,
        rule: String, severity: QSMSeverity, event: QSMEvent, subject: String? = nil, lock: Bool = false,
        lockSource: String = "", offenceKey: String? = nil, summary: String
    ) -> UInt32? {
        guard threshold.count > 0 else { return nil }  // a count of 0 turns the rule off
        // Pruned from the front (marks are in time order) and appended in place: windows are touched on
        // every matching event, so neither step may scan or copy the whole window.
        let cutoff = event.recordedAtUs - threshold.windowMicros
        if let first = self[keyPath: windows][key]?.first, first.at <= cutoff {
            let stale = self[keyPath: windows][key]!.prefix { $0.at <= cutoff }.count
            self[keyPath: windows][key]!.removeFirst(stale)
        }
        self[keyPath: windows][key, default: []].append(mark)
        var level: UInt32?
        if let window = self[keyPath: windows][key], window.count >= threshold.count {
            level = raise(rule: rule, severity: severity, subject: subject ?? key, evidence: window, event: event,
                          lock: lock, lockSource: lockSource, offenceKey: offenceKey, summary: summary)
            self[keyPath: windows][key] = nil
        }
        return level
    }

    /// Records that `rule` fired on `subject`: counts the offence (for growing penalties) and queues an
    /// alert, unless the rule raised one for the subject within `alertQuietSeconds` and imposes no lock;
    /// then the firing is counted into the next alert's summary instead. Returns the offence level.
    @discardableResult
    mutating func raise(
        rule: String, severity: QSMSeverity, subject: String, evidence: [Mark], event: QSMEvent, lock: Bool = false,
        lockSource: String = "", offenceKey: String? = nil, summary: String
    ) -> UInt32 {
        let offenceKey = offenceKey ?? rule + "\n" + subject
        var offence = offences[offenceKey] ?? Offence(level: 0, lastAt: 0)
        if offence.level > 0 && event.recordedAtUs - offence.lastAt > rules.offenceMemorySeconds * 1_000_000 {
            offence.level = 0
        }
        offence.level += 1
        offence.lastAt = event.recordedAtUs
        offences[offenceKey] = offence
        let alertKey = rule + "\n" + subject
        let quiet = rules.alertQuietSeconds * 1_000_000
        if !lock, let last = lastAlerts[alertKey], event.recordedAtUs - last < quiet {
            quietFirings[alertKey, default: 0] += 1
            return offence.level
        }
        if lastAlerts[alertKey] == nil {
            // A new key: forget the ones whose quiet time is over, so the table stays as small as the
            // set of subjects alerted on lately.
            lastAlerts = lastAlerts.filter { event.recordedAtUs - $0.value < quiet }
            quietFirings = quietFirings.filter { lastAlerts[$0.key] != nil }
        }
        lastAlerts[alertKey] = event.recordedAtUs
        var text = summary
        if let left = quietFirings.removeValue(forKey: alertKey) {
            text += " (fired \(left) more times since the last alert, not raised separately)"
        }
        var lockUntil: Int64?
        if lock {
            let seconds = Self.grown(rules.lockoutSeconds, level: offence.level, max: rules.maxLockoutSeconds)
            lockUntil = event.recordedAtUs + seconds * 1_000_000
        }
        pending.append(Derived(
            id: "\(rule)-\(event.position)", rule: rule, severity: severity.rawValue, subject: subject,
            summary: text, evidence: evidence.map(\.position), trigger: event.position, lockUntil: lockUntil,
            level: offence.level, lockSource: lockSource))
        return offence.level
    }

    /// `base` doubled for each repetition after the first, at most `max`.
    static func grown(_ base: Int64, level: UInt32, max limit: Int64) -> Int64 {
        let doublings = min(Int64(level) - 1, 30)
        return min(base << doublings, limit)
    }

    static func pruned(_ marks: [Mark], before cutoff: Int64) -> [Mark] {
        guard let first = marks.firstIndex(where: { $0.at > cutoff }) else { return [] }
        return first == 0 ? marks : Array(marks[first...])
    }
}
