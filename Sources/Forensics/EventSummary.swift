public import QSMEvents
import EventLog
import Foundation

/// Short human-readable descriptions of events, for `qsm log replay` and the forensic tables. Never
/// shows a secret, ciphertext or hash: only names, ids, sizes, reasons and figures.
public enum EventSummary {
    /// One line: time, position, type, actor, peer and what happened, in padded columns, e.g.
    /// `2026-11-28T06:08:09.123456Z        42  message_sent            alice         uid=1000,pid=4242     alice -> bob ...`.
    /// `roles`, when given, adds a column after the actor (a timeline's).
    public static func line(_ event: QSMEvent, roles: [EventFacts.Role]? = nil) -> String {
        var columns = [
            Timestamps.string(micros: event.recordedAtUs), pad(String(event.position), 8, right: true),
            pad(typeName(event), 22), pad(event.actor.isEmpty ? "-" : event.actor, 12),
        ]
        if let roles { columns.append(pad(roles.map(\.rawValue).joined(separator: ","), 16)) }
        columns += [pad(peer(event), 20), text(event)]
        return columns.joined(separator: "  ")
    }

    /// The column titles matching `line(_:roles:)`.
    public static func header(roles: Bool = false) -> String {
        var columns = [pad("TIME (UTC)", 27), pad("POSITION", 8, right: true), pad("TYPE", 22), pad("ACTOR", 12)]
        if roles { columns.append(pad("ROLES", 16)) }
        columns += [pad("PEER", 20), "WHAT"]
        return columns.joined(separator: "  ")
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let spaces = String(repeating: " ", count: width - count)
        return right ? spaces + text : text + spaces
    }

    /// The event's type name, or `type-N` for a type this build does not know.
    public static func typeName(_ event: QSMEvent) -> String {
        event.eventType?.name ?? "type-\(event.type)"
    }

    /// The socket peer as `uid=U,pid=P` (gid is in the JSON), or `-`.
    public static func peer(_ event: QSMEvent) -> String {
        event.hasPeer ? "uid=\(event.peer.uid),pid=\(event.peer.pid)" : "-"
    }

    /// What happened, in a few words.
    public static func text(_ event: QSMEvent) -> String {
        switch event.body {
        case .userRegistered(let e)?: return "\(e.username) registered"
        case .passwordChanged(let e)?:
            return "\(e.username) password changed (\(short(e.reason.rawValue, EnumNames.passwordChangedReason)))"
        case .loginSucceeded(let e)?: return "\(e.username) logged in, session \(prefix(e.sessionID))"
        case .loginFailed(let e)?:
            return "login failed for '\(e.username)' (\(short(e.reason.rawValue, EnumNames.loginFailedReason)))"
        case .loggedOut(let e)?: return "\(e.username) logged out, session \(prefix(e.sessionID))"
        case .sessionExpired(let e)?: return "\(e.username) session \(prefix(e.sessionID)) expired"
        case .keyExchangeCompleted(let e)?:
            return "key exchange \(e.initiator) -> \(e.peer): \(e.figures.finalBits) key bits, QBER "
                + percent(e.figures.qber)
        case .keyExchangeAborted(let e)?:
            return "key exchange \(e.initiator) -> \(e.peer) aborted "
                + "(\(short(e.reason.rawValue, EnumNames.keyExchangeAbortedReason))), QBER bound \(percent(e.figures.qberUpperBound))"
        case .messageSent(let e)?:
            return "\(e.sender) -> \(e.recipient): message \(HexDigits.encode(e.messageID)), "
                + "\(mode(e.mode)), \(e.size) bytes"
        case .messageDecrypted(let e)?:
            return "\(e.reader) read message \(HexDigits.encode(e.messageID)) from \(e.sender)"
        case .accessDenied(let e)?:
            let who = e.username.isEmpty ? "someone without a session" : e.username
            let what = e.resource.isEmpty ? "" : " \(e.resource) \(e.resourceID)"
            let owner = e.owner.isEmpty ? "" : " of \(e.owner)"
            return "\(who) refused \(e.method)\(what)\(owner) (\(short(e.reason.rawValue, EnumNames.accessDeniedReason)))"
        case .alertRaised(let e)?:
            return "alert \(e.rule) (\(short(e.severity.rawValue, EnumNames.severity, "SEVERITY_"))) on \(e.subject): \(e.summary)"
        case .accountLocked(let e)?:
            let from = e.source.isEmpty ? "" : " for logins from \(e.source)"
            return "\(e.username) locked\(from) until \(Timestamps.string(micros: e.untilUs)) by \(e.rule) (level \(e.level))"
        case .accountUnlocked(let e)?:
            return "\(e.username) unlocked (\(short(e.reason.rawValue, EnumNames.accountUnlockedReason)))"
        case .checkpointSigned(let e)?:
            return "checkpoint at \(e.checkpointPosition) signed (\(e.algorithm))"
        case .keyMaterialRetired(let e)?:
            let detail = e.detail.isEmpty ? "" : ": \(e.detail)"
            return "key material retired at \(e.cause) (\(e.pairs) pairs, \(e.bits) unused bits)\(detail)"
        case .signingKeyReplaced(let e)?:
            return "signing key replaced: \(HexDigits.encode(Data(e.previousPublicKeyID.prefix(8)))) -> "
                + "\(HexDigits.encode(Data(e.publicKeyID.prefix(8))))"
        case .refusalsAggregated(let e)?:
            let kinds = e.kinds.map { "\($0.kind) \($0.count)" }.joined(separator: ", ")
            return "\(e.source) refused \(e.count) more times, not recorded one by one (\(kinds))"
        case .decryptionFailed(let e)?:
            return "\(e.reader) could not decrypt message \(HexDigits.encode(e.messageID)) from \(e.sender) "
                + "(\(e.mode)): it failed authentication"
        case .secondFactorStarted(let e)?: return "\(e.username) started enrolling a second factor (TOTP \(e.algorithm))"
        case .secondFactorEnabled(let e)?:
            return "\(e.username) turned the second factor on (\(e.recoveryCodeHashes.count) recovery codes)"
        case .secondFactorDisabled(let e)?: return "\(e.username) turned the second factor off"
        case .recoveryCodesGenerated(let e)?:
            return "\(e.username) made \(e.recoveryCodeHashes.count) new recovery codes (the old ones stop working)"
        case .recoveryCodeUsed(let e)?:
            return "\(e.username) used recovery code \(e.index + 1) for \(e.method) (\(e.remaining) left)"
        case nil:
            return "(a body this build does not know)"
        }
    }

    /// A message mode as the CLI names it: `otp`, `aes`, `pqc`.
    public static func mode(_ mode: QSMMessageMode) -> String {
        short(mode.rawValue, EnumNames.messageMode, "MESSAGE_MODE_")
    }

    private static func short(_ raw: Int, _ names: [StaticString], _ prefix: String = "REASON_") -> String {
        EnumNames.short(raw, in: names, dropping: prefix)
    }

    /// Enough of a session id to tell sessions apart, not enough to matter (it is a hash anyway).
    private static func prefix(_ id: Data) -> String {
        HexDigits.encode(Data(id.prefix(4)))
    }

    private static func percent(_ value: Double) -> String {
        let hundredths = (value * 10_000).rounded()
        guard hundredths.isFinite else { return "\(value)" }
        let whole = Int(hundredths)
        let fraction = abs(whole % 100)
        return "\(whole / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }
}
