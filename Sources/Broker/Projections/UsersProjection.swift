public import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// Registered users: credentials as stored (PHC strings and wrapped keys, never secrets) and lockouts.
public struct UsersProjection: Projection {
    public static let name = "users"

    /// One registered user.
    public struct User: Codable, Sendable, Equatable {
        /// The Argon2id PHC string.
        public var passwordHash: String
        /// The user's X-Wing public key for pqc messages.
        public var pqcPublicKey: Data
        /// The X-Wing private key wrapped under a key derived from the password (serialized WrappedSecret).
        public var pqcPrivateKey: Data
        /// When the user registered, in microseconds.
        public var registeredAt: Int64
        /// Bumped on every password change, so a login verified against an old hash is refused.
        public var credentialVersion: UInt64
        /// The end of the current lockout, in microseconds, or nil when not locked.
        public var lockedUntil: Int64?
        /// The TOTP second factor, once enrolment started (nil: none; see SecondFactorState.swift).
        public var secondFactor: SecondFactor? = nil
    }

    /// Users by name.
    public internal(set) var users: [String: User] = [:]

    public init() {}

    /// The user named `name`, if registered.
    public subscript(name: String) -> User? { users[name] }

    public mutating func evolve(_ event: QSMEvent) {
        evolveSecondFactor(event)
        switch event.body {
        case .userRegistered(let registered):
            users[registered.username] = User(
                passwordHash: registered.passwordHash, pqcPublicKey: registered.pqcPublicKey,
                pqcPrivateKey: (try? registered.pqcPrivateKey.serializedBytes()) ?? Data(),
                registeredAt: event.recordedAtUs, credentialVersion: 1, lockedUntil: nil)
        case .passwordChanged(let changed):
            guard var user = users[changed.username] else { return }
            user.passwordHash = changed.passwordHash
            if changed.hasPqcPrivateKey { user.pqcPrivateKey = (try? changed.pqcPrivateKey.serializedBytes()) ?? Data() }
            user.credentialVersion += 1
            users[changed.username] = user
        case .accountLocked(let locked) where locked.source.isEmpty:
            // A lock for every source (logs from before locks had a source). A lock for one source is the
            // intrusion detection's to enforce (IDSProjection.loginLocks): the owner logs in from elsewhere.
            users[locked.username]?.lockedUntil = locked.untilUs
        case .accountUnlocked(let unlocked):
            users[unlocked.username]?.lockedUntil = nil
        default:
            break
        }
    }
}
