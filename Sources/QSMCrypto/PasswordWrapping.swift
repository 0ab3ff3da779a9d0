import Foundation
internal import Crypto

extension PasswordHasher {
    /// Wraps `secret` under a key derived from `password` (Argon2id at ``cost`` with a fresh 16-byte salt).
    /// The wrapped form records the KDF in ``WrappedSecret/kdf``; its key id is `password:<username>`.
    public func wrap(
        _ secret: SecretBytes, password: String, username: String, context: String
    ) throws(QSMCryptoError) -> WrappedSecret {
        let salt = Data(Sodium.randomBytes(16))
        let derived = try PasswordHasher.deriveKey(password: password, salt: salt, cost: cost)
        let key = derived.withUnsafeBytes { SymmetricKey(data: $0) }
        return try SecretWrapping.wrap(
            secret, key: key, keyID: Self.keyID(username: username), context: context,
            kdf: PHCString(cost: cost, salt: salt).text)
    }

    /// Unwraps a secret made by ``wrap(_:password:username:context:)``, with the KDF cost it records
    /// (whatever this hasher's cost is now).
    /// - Throws: ``QSMCryptoError/unwrapFailed(keyID:)`` for a wrong password,
    ///   ``QSMCryptoError/wrongWrappingKey(expected:found:)`` for another user's secret,
    ///   ``QSMCryptoError/malformedPHCString(reason:)`` for a malformed KDF.
    public func unwrap(
        _ wrapped: WrappedSecret, password: String, username: String, context: String
    ) throws(QSMCryptoError) -> SecretBytes {
        let expectedKeyID = Self.keyID(username: username)
        guard wrapped.keyID == expectedKeyID else {
            throw .wrongWrappingKey(expected: expectedKeyID, found: wrapped.keyID)
        }
        let kdf = try PHCString(parsing: wrapped.kdf, requireHash: false)
        let derived = try PasswordHasher.deriveKey(password: password, salt: kdf.salt, cost: kdf.cost)
        let key = derived.withUnsafeBytes { SymmetricKey(data: $0) }
        return try SecretWrapping.unwrap(wrapped, key: key, expectedKeyID: expectedKeyID, context: context)
    }

    /// The key id of a password-derived key.
    static func keyID(username: String) -> String { "password:" + username }
}
