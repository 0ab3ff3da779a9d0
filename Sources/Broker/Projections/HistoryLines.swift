import Foundation
public import QSMEvents
import EventLog

/// The lines of a user's history: which users an event concerns, and the line each of them sees. The
/// positions of a user's events are in the `history` table (MessageTables); the lines are written when
/// asked for, from the events in the log, because a formatted line per user per event cost more than
/// everything else the broker kept.
public enum HistoryLines {
    /// One line of a user's history.
    public struct Entry: Codable, Sendable, Equatable {
        public var position: UInt64
        public var at: Int64
        /// The event type's name, e.g. message_sent.
        public var kind: String
        public var summary: String
    }

    /// The users `event` concerns, each once.
    static func users(concernedBy event: QSMEvent) -> [String] {
        var users: [String] = []
        for (user, _) in lines(for: event, formatted: false) where !users.contains(user) { users.append(user) }
        return users
    }

    /// `event` as a line of `user`'s history, if it concerns them.
    public static func entry(for event: QSMEvent, user: String) -> Entry? {
        guard let line = lines(for: event, formatted: true).first(where: { $0.user == user }), let body = event.body
        else { return nil }
        return Entry(position: event.position, at: event.recordedAtUs, kind: body.type.name, summary: line.summary)
    }

    /// The users `event` concerns and, when `formatted`, the line each of them sees.
    static func lines(for event: QSMEvent, formatted: Bool) -> [(user: String, summary: String)] {
        guard let body = event.body else { return [] }
        var result: [(user: String, summary: String)] = []
        let peer = formatted && event.hasPeer ? " (uid \(event.peer.uid), pid \(event.peer.pid))" : ""
        func add(_ user: String, _ summary: @autoclosure () -> String) {
            guard !user.isEmpty else { return }
            result.append((user, formatted ? summary() : ""))
        }
        switch body {
        case .userRegistered(let e): add(e.username, "registered\(peer)")
        case .passwordChanged(let e): add(e.username, "password changed (\(e.reason))\(peer)")
        case .loginSucceeded(let e): add(e.username, "logged in\(peer)")
        case .loginFailed(let e): add(e.username, "login failed: \(e.reason)\(peer)")
        case .loggedOut(let e): add(e.username, "logged out\(peer)")
        case .sessionExpired(let e): add(e.username, "session expired")
        case .keyExchangeCompleted(let e):
            let summary = formatted ? "key exchange: \(e.figures.finalBits) key bits, QBER \(Self.percent(e.figures.qber))" : ""
            add(e.initiator, summary + " with \(e.peer)\(peer)")
            add(e.peer, summary + " started by \(e.initiator)")
        case .keyExchangeAborted(let e):
            let summary = formatted ? "key exchange aborted (\(e.reason)): QBER bound \(Self.percent(e.figures.qberUpperBound))" : ""
            add(e.initiator, summary + " with \(e.peer)\(peer)")
            add(e.peer, summary + " started by \(e.initiator)")
        case .messageSent(let e):
            add(e.sender, "sent \(e.size) bytes (\(e.mode.name)) to \(e.recipient), message \(e.messageID.hex)\(peer)")
            add(e.recipient, "received \(e.size) bytes (\(e.mode.name)) from \(e.sender), message \(e.messageID.hex)")
        case .messageDecrypted(let e) where e.reader == e.sender:
            add(e.reader, "read your sent message \(e.messageID.hex)\(peer)")
        case .messageDecrypted(let e):
            add(e.reader, "read message \(e.messageID.hex) from \(e.sender)\(peer)")
            add(e.sender, "\(e.reader) read your message \(e.messageID.hex)")
        case .accessDenied(let e):
            let target = !formatted ? "" : e.resourceID.isEmpty ? e.method : "\(e.method) \(e.resource) \(e.resourceID)"
            add(e.username, "refused: \(target) (\(e.reason))\(peer)")
            if e.owner != e.username { add(e.owner, "\(e.username.isEmpty ? "someone" : e.username) was refused \(target)\(peer)") }
        case .alertRaised(let e):
            add(e.subject, "alert \(e.rule) (\(e.severity)): \(e.summary)")
        case .accountLocked(let e):
            let from = e.source.isEmpty ? "" : " for logins from \(e.source)"
            add(e.username, "account locked\(from) until \(e.untilUs) by \(e.rule) (level \(e.level))")
        case .accountUnlocked(let e):
            add(e.username, "account unlocked (\(e.reason))")
        case .decryptionFailed(let e):
            add(e.reader, "message \(e.messageID.hex) from \(e.sender) failed authentication: it was altered\(peer)")
        case .secondFactorStarted(let e): add(e.username, "second factor: enrolment started\(peer)")
        case .secondFactorEnabled(let e): add(e.username, "second factor on, \(e.recoveryCodeHashes.count) recovery codes\(peer)")
        case .secondFactorDisabled(let e): add(e.username, "second factor off\(peer)")
        case .recoveryCodesGenerated(let e): add(e.username, "new recovery codes (the old ones stopped working)\(peer)")
        case .recoveryCodeUsed(let e): add(e.username, "recovery code used for \(e.method), \(e.remaining) left\(peer)")
        case .checkpointSigned, .refusalsAggregated, .keyMaterialRetired, .signingKeyReplaced:
            break
        }
        return result
    }

    static func percent(_ value: Double) -> String {
        String(format: "%.2f%%", value * 100)
    }
}
