public import Foundation
internal import Crypto

/// A user's X-Wing (ML-KEM-768 + X25519) public key, parsed once.
public struct PQCPublicKey: Sendable {
    let key: XWingMLKEM768X25519.PublicKey

    /// Parses a public key (the `pqc_public_key` event field).
    /// - Throws: ``QSMCryptoError/invalidPublicKey``.
    public init(rawRepresentation: Data) throws(QSMCryptoError) {
        do { key = try XWingMLKEM768X25519.PublicKey(rawRepresentation: rawRepresentation) } catch {
            throw .invalidPublicKey
        }
    }

    init(_ key: XWingMLKEM768X25519.PublicKey) { self.key = key }

    /// The encoded key.
    public var rawRepresentation: Data { key.rawRepresentation }
}

/// A user's X-Wing private key, unwrapped in memory at login and dropped at logout.
public struct PQCPrivateKey: Sendable {
    let key: XWingMLKEM768X25519.PrivateKey

    /// The matching public key.
    public var publicKey: PQCPublicKey { PQCPublicKey(key.publicKey) }

    /// The 32-byte seed, for tests that look for it where it must not be (the log on disk).
    package var seedForTests: Data { key.seedRepresentation }
}

extension PQCPrivateKey: CustomStringConvertible, CustomReflectable {
    /// Redacted.
    public var description: String { "PQCPrivateKey(redacted)" }
    /// No children.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// A new user's pqc keys, as a `UserRegistered` event carries them.
public struct PQCRegistration: Sendable, Hashable {
    /// The X-Wing public key (`pqc_public_key`).
    public let publicKey: Data
    /// The private key's 32-byte seed wrapped under the user's password (`pqc_private_key`).
    public let wrappedPrivateKey: WrappedSecret
}

/// Making, unwrapping and rewrapping users' pqc key pairs. The private key (its 32-byte seed) is wrapped
/// with AES-256-GCM under an Argon2id key derived from the user's password with its own salt.
public enum PQCKeys {
    static func context(username: String) -> String { "pqc-private-key/" + username }

    /// A fresh key pair for `username`, the private key wrapped under `password` at `hasher`'s cost.
    public static func register(
        username: String, password: String, hasher: PasswordHasher
    ) throws(QSMCryptoError) -> PQCRegistration {
        let key: XWingMLKEM768X25519.PrivateKey
        do { key = try XWingMLKEM768X25519.PrivateKey.generate() } catch {
            throw .primitiveFailed(operation: "X-Wing key generation")
        }
        var seed = key.seedRepresentation
        defer { seed.withUnsafeMutableBytes { Sodium.zero($0) } }
        let wrapped = try hasher.wrap(
            SecretBytes(copying: seed), password: password, username: username, context: context(username: username))
        return PQCRegistration(publicKey: key.publicKey.rawRepresentation, wrappedPrivateKey: wrapped)
    }

    /// Unwraps `username`'s private key with `password` (at login).
    /// - Throws: ``QSMCryptoError/unwrapFailed(keyID:)`` for a wrong password.
    public static func unwrap(
        _ wrapped: WrappedSecret, username: String, password: String, hasher: PasswordHasher
    ) throws(QSMCryptoError) -> PQCPrivateKey {
        let seed = try hasher.unwrap(wrapped, password: password, username: username, context: context(username: username))
        do {
            return try seed.withUnsafeBytes { bytes in
                PQCPrivateKey(key: try XWingMLKEM768X25519.PrivateKey(seedRepresentation: bytes, publicKey: nil))
            }
        } catch {
            throw .malformedWrappedSecret(reason: "unwrapped bytes are not an X-Wing seed")
        }
    }

    /// Rewraps `username`'s private key from `oldPassword` to `newPassword` (password change, or rehash at
    /// login with the same password at a higher cost). The key pair stays the same.
    public static func rewrap(
        _ wrapped: WrappedSecret, username: String, oldPassword: String, newPassword: String, hasher: PasswordHasher
    ) throws(QSMCryptoError) -> WrappedSecret {
        let seed = try hasher.unwrap(wrapped, password: oldPassword, username: username, context: context(username: username))
        return try hasher.wrap(seed, password: newPassword, username: username, context: context(username: username))
    }
}
