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
    }

    /// Repeated offences of one rule by one subject: their number and the last one's time.
    public struct Offence: Codable, Sendable, Equatable {
        public var level: UInt32
        public var lastAt: Int64
    }

    public private(set) var accountFailures: [String: [Mark]] = [:]
    public private(set) var peerFailures: [String: [Mark]] = [:]
    public private(set) var systemFailures: [Mark] = []
    public private(set) var denials: [String: [Mark]] = [:]
    public private(set) var staleTokens: [String: [Mark]] = [:]
    public private(set) var sends: [String: [Mark]] = [:]
    public private(set) var aborts: [String: [Mark]] = [:]
    public private(set) var qber: [String: [Mark]] = [:]
    public private(set) var offences: [String: Offence] = [:]
    /// Users whose sends are refused until the given time (a flood's throttle).
    public private(set) var throttledUntil: [String: Int64] = [:]
    public private(set) var alerts: [Alert] = []
    /// Derived alerts not yet met in the log. Empty between commands.
    public private(set) var pending: [Derived] = []

    public init() {}

    /// Creates an empty projection with `rules`.
    public init(rules: IDSRules) { self.rules = rules }

    enum CodingKeys: String, CodingKey {
        case accountFailures, peerFailures, systemFailures, denials, staleTokens, sends, aborts, qber, offences
        case throttledUntil, alerts, pending
    }

    /// Takes the derived alerts queued by the last evolve.
    public mutating func takePending() -> [Derived] {
        defer { pending.removeAll() }
        return pending
    }

    /// The subject a peer-based rule names: the peer's uid, or "local" for in-process callers.
    public static func peerSubject(_ event: QSMEvent) -> String {
        event.hasPeer ? "uid:\(event.peer.uid)" : "local"
    }

    public mutating func evolve(_ event: QSMEvent) {
        let mark = Mark(at: event.recordedAtUs, position: event.position, detail: "")
        switch event.body {
        case .loginFailed(let failed) where failed.reason == .badPassword || failed.reason == .unknownUser:
            loginFailed(failed, event: event, mark: mark)
        case .accessDenied(let denied):
            if denied.reason == .notOwner {
                count(\.denials, denied.username, mark, rules.unauthorizedAccess, rule: "unauthorized_access",
                      severity: .high, event: event,
                      summary: "\(denied.username) was refused other users' data \(rules.unauthorizedAccess.count) times")
            } else if [.expiredSession, .revokedSession, .noSession].contains(denied.reason) {
                let peer = Self.peerSubject(event)
                count(\.staleTokens, peer, mark, rules.staleTokens, rule: "stale_token", severity: .medium,
                      event: event, summary: "\(peer) used expired, revoked or unknown tokens \(rules.staleTokens.count) times")
            }
        case .keyExchangeAborted(let aborted):
            let pair = KeyPoolsProjection.pairKey(aborted.initiator, aborted.peer)
            // An eavesdropper the initiator asked the simulation for is a demonstration, not an attack:
            // any user could otherwise raise high-severity alerts at will (security review, issue 16).
            let simulated = aborted.figures.eavesdropperFraction > 0
            count(\.aborts, pair, mark, rules.keyExchangeAborts, rule: "qkd_abort", severity: simulated ? .low : .high,
                  event: event, subject: aborted.initiator,
                  summary: "key exchange \(aborted.initiator)-\(aborted.peer) aborted: QBER bound "
                      + "\(HistoryProjection.percent(aborted.figures.qberUpperBound)), "
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
        case .alertRaised(let raised):
            pending.removeAll { $0.id == raised.alertID }
            alerts.append(Alert(
                id: raised.alertID, rule: raised.rule, severity: raised.severity.name, subject: raised.subject,
                summary: raised.summary, evidence: raised.evidencePositions, trigger: raised.triggerPosition,
                position: event.position, at: event.recordedAtUs))
        default:
            break
        }
    }

    private mutating func loginFailed(_ failed: QSMLoginFailed, event: QSMEvent, mark: Mark) {
        if failed.reason == .badPassword {
            let fired = count(\.accountFailures, failed.username, mark, rules.bruteForce, rule: "brute_force",
                              severity: .high, event: event, lock: true,
                              summary: "\(rules.bruteForce.count) failed passwords for \(failed.username) "
                                  + "within \(rules.bruteForce.windowSeconds) s")
            _ = fired
        }
        let peer = Self.peerSubject(event)
        var window = Self.pruned(peerFailures[peer] ?? [], before: event.recordedAtUs - rules.passwordSpraying.windowMicros)
        window.append(Mark(at: mark.at, position: mark.position, detail: failed.username))
        if rules.passwordSpraying.count > 0, Set(window.map(\.detail)).count >= rules.passwordSpraying.count {
            raise(rule: "password_spraying", severity: .high, subject: peer, evidence: window, event: event,
                  summary: "\(peer) failed on \(rules.passwordSpraying.count) accounts within "
                      + "\(rules.passwordSpraying.windowSeconds) s")
            window.removeAll()
        }
        peerFailures[peer] = window.isEmpty ? nil : window
        var system = Self.pruned(systemFailures, before: event.recordedAtUs - rules.failureSurge.windowMicros)
        system.append(mark)
        if rules.failureSurge.count > 0, system.count >= rules.failureSurge.count {
            raise(rule: "failure_surge", severity: .critical, subject: "system", evidence: system, event: event,
                  summary: "\(system.count) failed logins across the system within \(rules.failureSurge.windowSeconds) s")
            system.removeAll()
        }
        systemFailures = system
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
                      + "is \(HistoryProjection.percent(mean)), at or above \(HistoryProjection.percent(rules.qberDriftLimit))")
            samples.removeAll()
        }
        qber[pair] = samples.isEmpty ? nil : samples
    }

    /// Adds `mark` to `subject`'s window; when the window holds `threshold.count` marks the rule fires
    /// (and the window empties, so the next alert needs as many again). Returns the offence level if it fired.
    @discardableResult
    private mutating func count(
        _ windows: WritableKeyPath<IDSProjection, [String: [Mark]]>, _ key: String, _ mark: Mark,
        _ threshold: IDSRules.Threshold,
        rule: String, severity: QSMSeverity, event: QSMEvent, subject: String? = nil, lock: Bool = false,
        summary: String
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
                          lock: lock, summary: summary)
            self[keyPath: windows][key] = nil
        }
        return level
    }

    @discardableResult
    private mutating func raise(
        rule: String, severity: QSMSeverity, subject: String, evidence: [Mark], event: QSMEvent, lock: Bool = false,
        summary: String
    ) -> UInt32 {
        let key = rule + "\n" + subject
        var offence = offences[key] ?? Offence(level: 0, lastAt: 0)
        if offence.level > 0 && event.recordedAtUs - offence.lastAt > rules.offenceMemorySeconds * 1_000_000 {
            offence.level = 0
        }
        offence.level += 1
        offence.lastAt = event.recordedAtUs
        offences[key] = offence
        var lockUntil: Int64?
        if lock {
            let seconds = Self.grown(rules.lockoutSeconds, level: offence.level, max: rules.maxLockoutSeconds)
            lockUntil = event.recordedAtUs + seconds * 1_000_000
        }
        pending.append(Derived(
            id: "\(rule)-\(event.position)", rule: rule, severity: severity.rawValue, subject: subject,
            summary: summary, evidence: evidence.map(\.position), trigger: event.position, lockUntil: lockUntil,
            level: offence.level))
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
