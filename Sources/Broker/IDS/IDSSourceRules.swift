import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// The rules and responses keyed by source (a socket peer's uid, later a client address): failed
/// logins lock the account for that source only, or the source for every account; registrations and
/// sends are throttled per source; refusals are recorded one by one only up to a burst per window.
/// Everything here reads event times only, so replaying the log reaches the same locks and limits.
extension IDSProjection {
    /// Until when logins to `username` from `source` are refused, if they are at `now`: a lock on the
    /// pair (brute force) or on the source (spraying, failures over many accounts), whichever ends later.
    /// The same for unknown usernames, so a lock tells nothing about which accounts exist. `admin` callers
    /// (root, qsmd's uid, the admin group) are held only by the pair lock: locking the operator's uid out
    /// of every login protects nothing (it holds the master key) and stops test and benchmark workloads.
    public func loginLock(username: String, source: String, now: Int64, admin: Bool = false) -> Int64? {
        let until = max(loginLocks[Self.pairKey(username, source)] ?? .min, admin ? .min : sourceLocks[source] ?? .min)
        return until > now ? until : nil
    }

    /// Whether a refusal of `kind` from `source` at `now` is recorded as its own event, or only counted
    /// (the source spent its burst of that kind for the window). Kinds have separate bursts, so a flood
    /// of one (unknown tokens) cannot hide another (reads of other users' messages).
    public func recordsRefusal(_ kind: String, from source: String, now: Int64) -> Bool {
        let burst = rules.refusalBurst
        guard burst.count > 0, let window = refusals[Self.refusalKey(source, kind)], now - window.start < burst.windowMicros
        else { return true }
        return window.count < burst.count
    }

    /// When the refusal window of `kind` from `source` ends (nil: none recorded lately).
    public func refusalWindowEnd(_ kind: String, from source: String) -> Int64? {
        refusals[Self.refusalKey(source, kind)].map { $0.start + rules.refusalBurst.windowMicros }
    }

    /// "access_denied:noSession", "login_failed:throttled": the kind a refusal counts as.
    public static func refusalKind(_ body: QSMEvent.OneOf_Body?) -> String {
        switch body {
        case .accessDenied(let denied)?: "access_denied:\(denied.reason)"
        case .loginFailed(let failed)?: "login_failed:\(failed.reason)"
        case let other?: other.type.name
        case nil: "unknown"
        }
    }

    static func refusalKey(_ source: String, _ kind: String) -> String { source + "\n" + kind }

    static func pairKey(_ username: String, _ source: String) -> String { username + "\n" + source }

    /// A refusal recorded as its own event: counts towards the source's burst.
    mutating func countRefusal(_ event: QSMEvent) {
        let key = Self.refusalKey(Self.source(of: event), Self.refusalKind(event.body))
        let at = event.recordedAtUs
        if let window = refusals[key], at - window.start < rules.refusalBurst.windowMicros {
            refusals[key]!.count += 1
        } else {
            if refusals[key] == nil {
                // A new key: drop the windows that are over, so the table holds only recent sources.
                refusals = refusals.filter { at - $0.value.start < rules.refusalBurst.windowMicros }
            }
            refusals[key] = RefusalWindow(start: at, count: 1)
        }
    }

    mutating func loginFailed(_ failed: QSMLoginFailed, event: QSMEvent, mark: Mark) {
        let source = Self.source(of: event)
        let at = event.recordedAtUs
        // Unknown usernames count and lock like known ones: a lock must not tell which accounts exist.
        let pair = Self.pairKey(failed.username, source)
        if let level = count(
            \.accountFailures, pair, mark, rules.bruteForce, rule: "brute_force", severity: .high, event: event,
            subject: failed.username, lock: true, lockSource: source, offenceKey: "brute_force\n" + pair,
            summary: "\(rules.bruteForce.count) failed logins for \(failed.username) from \(source) "
                + "within \(rules.bruteForce.windowSeconds) s; logins to it from there are refused for a while")
        {
            let seconds = Self.grown(rules.lockoutSeconds, level: level, max: rules.maxLockoutSeconds)
            loginLocks = loginLocks.filter { $0.value > at }
            loginLocks[pair] = at + seconds * 1_000_000
        }
        var window = Self.pruned(peerFailures[source] ?? [], before: at - rules.passwordSpraying.windowMicros)
        window.append(Mark(at: mark.at, position: mark.position, detail: failed.username))
        if rules.passwordSpraying.count > 0, Set(window.map(\.detail)).count >= rules.passwordSpraying.count {
            let level = raise(
                rule: "password_spraying", severity: .high, subject: source, evidence: window, event: event,
                summary: "\(source) failed on \(rules.passwordSpraying.count) accounts within "
                    + "\(rules.passwordSpraying.windowSeconds) s; its logins are refused for a while")
            lockSource(source, level: level, at: at)
            window.removeAll()
        }
        peerFailures[source] = window.isEmpty ? nil : window
        if let level = count(
            \.sourceFailures, source, mark, rules.sourceFailures, rule: "source_failures", severity: .high, event: event,
            summary: "\(source) failed \(rules.sourceFailures.count) logins within "
                + "\(rules.sourceFailures.windowSeconds) s; its logins are refused for a while")
        {
            lockSource(source, level: level, at: at)
        }
        var system = Self.pruned(systemFailures, before: at - rules.failureSurge.windowMicros)
        system.append(mark)
        if rules.failureSurge.count > 0, system.count >= rules.failureSurge.count {
            raise(rule: "failure_surge", severity: .critical, subject: "system", evidence: system, event: event,
                  summary: "\(system.count) failed logins across the system within \(rules.failureSurge.windowSeconds) s")
            system.removeAll()
        }
        systemFailures = system
    }

    private mutating func lockSource(_ source: String, level: UInt32, at: Int64) {
        let seconds = Self.grown(rules.lockoutSeconds, level: level, max: rules.maxLockoutSeconds)
        sourceLocks = sourceLocks.filter { $0.value > at }
        sourceLocks[source] = max(sourceLocks[source] ?? .min, at + seconds * 1_000_000)
    }

    /// Pauses `source` in the throttle table at `table` for the throttle of `level`, dropping pauses that
    /// have ended (the table stays as small as the sources paused now).
    private mutating func pause(_ table: WritableKeyPath<Self, [String: Int64]>, _ source: String, level: UInt32, at now: Int64) {
        let seconds = Self.grown(rules.throttleSeconds, level: level, max: rules.maxLockoutSeconds)
        self[keyPath: table] = self[keyPath: table].filter { $0.value > now }
        self[keyPath: table][source] = now + seconds * 1_000_000
    }

    /// A registration, or one refused because the name is taken: farming and enumeration both show here.
    mutating func registrationAttempt(_ event: QSMEvent, mark: Mark) {
        let source = Self.source(of: event)
        if let level = count(
            \.registrations, source, mark, rules.accountFarming, rule: "account_farming", severity: .medium,
            event: event, summary: "\(source) tried to register \(rules.accountFarming.count) accounts within "
                + "\(rules.accountFarming.windowSeconds) s; its registrations are paused for a while")
        {
            pause(\.registrationThrottles, source, level: level, at: event.recordedAtUs)
        }
    }

    /// A message sent: one source's accounts together must not get round the per-user throttle.
    mutating func sourceSend(_ event: QSMEvent, mark: Mark) {
        let source = Self.source(of: event)
        if let level = count(
            \.sourceSends, source, mark, rules.sourceSendFlood, rule: "source_send_flood", severity: .medium,
            event: event, summary: "\(source) sent \(rules.sourceSendFlood.count) messages from its accounts within "
                + "\(rules.sourceSendFlood.windowSeconds) s; its sends are paused for a while")
        {
            pause(\.sendThrottles, source, level: level, at: event.recordedAtUs)
        }
    }

    mutating func refusalsAggregated(_ aggregated: QSMRefusalsAggregated, event: QSMEvent, mark: Mark) {
        guard rules.refusalFloodCount > 0, aggregated.count >= UInt64(rules.refusalFloodCount) else { return }
        let seconds = max(1, (aggregated.lastAtUs - aggregated.firstAtUs) / 1_000_000)
        let kinds = aggregated.kinds.map { "\($0.kind) \($0.count)" }.joined(separator: ", ")
        raise(rule: "refusal_flood", severity: .medium, subject: aggregated.source, evidence: [mark], event: event,
              summary: "\(aggregated.source) was refused \(aggregated.count) more times within \(seconds) s (\(kinds))")
    }
}
