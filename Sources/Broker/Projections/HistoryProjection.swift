import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// What each user did and what was done to them: one entry per event, under every user it concerns.
public struct HistoryProjection: Projection {
    public static let name = "history"

    /// One line of a user's history.
    public struct Entry: Codable, Sendable, Equatable {
        public var position: UInt64
        public var at: Int64
        /// The event type's name, e.g. message_sent.
        public var kind: String
        public var summary: String
    }

    public private(set) var entries: [String: [Entry]] = [:]

    public init() {}

    /// `user`'s history, newest first, at most `limit` entries.
    public func history(of user: String, limit: Int) -> [Entry] {
        Array((entries[user] ?? []).suffix(limit).reversed())
    }

    public mutating func evolve(_ event: QSMEvent) {
        guard let body = event.body else { return }
        let peer = event.hasPeer ? " (uid \(event.peer.uid), pid \(event.peer.pid))" : ""
        func add(_ user: String, _ summary: String) {
            guard !user.isEmpty else { return }
            entries[user, default: []].append(Entry(
                position: event.position, at: event.recordedAtUs, kind: body.type.name, summary: summary))
        }
        switch body {
        case .userRegistered(let e): add(e.username, "registered\(peer)")
        case .passwordChanged(let e): add(e.username, "password changed (\(e.reason))\(peer)")
        case .loginSucceeded(let e): add(e.username, "logged in\(peer)")
        case .loginFailed(let e): add(e.username, "login failed: \(e.reason)\(peer)")
        case .loggedOut(let e): add(e.username, "logged out\(peer)")
        case .sessionExpired(let e): add(e.username, "session expired")
        case .keyExchangeCompleted(let e):
            let summary = "key exchange: \(e.figures.finalBits) key bits, QBER \(Self.percent(e.figures.qber))"
            add(e.initiator, summary + " with \(e.peer)\(peer)")
            add(e.peer, summary + " started by \(e.initiator)")
        case .keyExchangeAborted(let e):
            let summary = "key exchange aborted (\(e.reason)): QBER bound \(Self.percent(e.figures.qberUpperBound))"
            add(e.initiator, summary + " with \(e.peer)\(peer)")
            add(e.peer, summary + " started by \(e.initiator)")
        case .messageSent(let e):
            add(e.sender, "sent \(e.size) bytes (\(e.mode.name)) to \(e.recipient), message \(e.messageID.hex)\(peer)")
            add(e.recipient, "received \(e.size) bytes (\(e.mode.name)) from \(e.sender), message \(e.messageID.hex)")
        case .messageDecrypted(let e):
            add(e.reader, "read message \(e.messageID.hex) from \(e.sender)\(peer)")
            add(e.sender, "\(e.reader) read your message \(e.messageID.hex)")
        case .accessDenied(let e):
            let target = e.resourceID.isEmpty ? e.method : "\(e.method) \(e.resource) \(e.resourceID)"
            add(e.username, "refused: \(target) (\(e.reason))\(peer)")
            if e.owner != e.username { add(e.owner, "\(e.username.isEmpty ? "someone" : e.username) was refused \(target)\(peer)") }
        case .alertRaised(let e):
            add(e.subject, "alert \(e.rule) (\(e.severity)): \(e.summary)")
        case .accountLocked(let e):
            add(e.username, "account locked until \(e.untilUs) by \(e.rule) (level \(e.level))")
        case .accountUnlocked(let e):
            add(e.username, "account unlocked (\(e.reason))")
        case .checkpointSigned:
            break
        }
    }

    static func percent(_ value: Double) -> String {
        String(format: "%.2f%%", value * 100)
    }
}
