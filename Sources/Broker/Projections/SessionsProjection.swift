public import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// Sessions by the hex of their id (the SHA-256 of the token; the token itself is never stored).
public struct SessionsProjection: Projection {
    public static let name = "sessions"

    /// How a session ended, if it has.
    public enum Ending: String, Codable, Sendable {
        case loggedOut
        case expired
        case passwordChanged
    }

    /// One session.
    public struct Session: Codable, Sendable, Equatable {
        public var username: String
        public var startedAt: Int64
        public var expiresAt: Int64
        public var ending: Ending?
        /// The position of the LoginSucceeded event holding the session's sealed pqc key, if it has one
        /// (the key opens only with the session's token; see docs/crypto.md).
        public var sealedKeyAt: UInt64?
    }

    public internal(set) var sessions: [String: Session] = [:]

    public init() {}

    /// The session with id `id`.
    public subscript(id: Data) -> Session? { sessions[id.hex] }

    /// Sessions neither ended nor past their expiry at `now`.
    public func activeCount(at now: Int64) -> Int {
        sessions.values.reduce(0) { $0 + ($1.ending == nil && $1.expiresAt > now ? 1 : 0) }
    }

    public mutating func evolve(_ event: QSMEvent) {
        switch event.body {
        case .loginSucceeded(let login):
            sessions[login.sessionID.hex] = Session(
                username: login.username, startedAt: event.recordedAtUs, expiresAt: login.expiresAtUs, ending: nil,
                sealedKeyAt: login.hasSessionPrivateKey ? event.position : nil)
        case .loggedOut(let logout):
            sessions[logout.sessionID.hex]?.ending = .loggedOut
        case .sessionExpired(let expired):
            sessions[expired.sessionID.hex]?.ending = .expired
        case .passwordChanged(let changed) where changed.reason != .rehash:
            // A new password ends every session of the user: whoever knew the old one is out. A rehash at
            // login (same password, higher cost) ends nothing.
            for (id, session) in sessions where session.username == changed.username && session.ending == nil {
                sessions[id]?.ending = .passwordChanged
            }
        default:
            break
        }
    }
}
