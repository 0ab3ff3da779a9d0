import Foundation
internal import Crypto

/// A logged-in session's pqc private key, sealed so that it survives a broker restart without being at
/// rest in a usable form: the X-Wing seed is sealed with AES-256-GCM under
/// `HKDF-SHA256(ikm: the session token, salt: "qsm-session-pqc-key", info: "qsm-session-pqc-key-v1" ||
/// session id)`. The broker stores only the token's SHA-256 (the session id), so the sealed seed in the
/// log opens only for a caller presenting the token, which only the client holds.
public enum SessionKeySealing {
    static let salt = Data("qsm-session-pqc-key".utf8)
    static let infoLabel = "qsm-session-pqc-key-v1"
    /// Written into `WrappedSecret.kdf`: how the wrapping key was derived (no secret in it).
    public static let kdfDescription = "hkdf-sha256;salt=qsm-session-pqc-key;info=qsm-session-pqc-key-v1||session-id"

    static func keyID(sessionID: Data) -> String {
        "session:" + sessionID.map { String(format: "%02x", $0) }.joined()
    }

    static func context(username: String) -> String { "pqc-private-key/" + username }

    static func wrappingKey(token: SessionToken) -> SymmetricKey {
        var info = Data(infoLabel.utf8)
        info.append(token.sessionID)
        return token.withUnsafeBytes { bytes in
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: bytes), salt: salt, info: info, outputByteCount: 32)
        }
    }

    /// Seals `privateKey` (its 32-byte seed) for the session of `token`.
    public static func seal(_ privateKey: PQCPrivateKey, token: SessionToken, username: String) throws(QSMCryptoError)
        -> WrappedSecret
    {
        var seed = privateKey.key.seedRepresentation
        defer { seed.withUnsafeMutableBytes { Sodium.zero($0) } }
        return try SecretWrapping.wrap(
            SecretBytes(copying: seed), key: wrappingKey(token: token), keyID: keyID(sessionID: token.sessionID),
            context: context(username: username), kdf: kdfDescription)
    }

    /// Opens the private key sealed at login for the session of `token`.
    /// - Throws: ``QSMCryptoError/wrongWrappingKey(expected:found:)`` for another session's seal,
    ///   ``QSMCryptoError/unwrapFailed(keyID:)`` when the token, user or bytes do not match.
    public static func open(_ wrapped: WrappedSecret, token: SessionToken, username: String) throws(QSMCryptoError)
        -> PQCPrivateKey
    {
        let seed = try SecretWrapping.unwrap(
            wrapped, key: wrappingKey(token: token), expectedKeyID: keyID(sessionID: token.sessionID),
            context: context(username: username))
        do {
            return try seed.withUnsafeBytes { bytes in
                PQCPrivateKey(key: try XWingMLKEM768X25519.PrivateKey(seedRepresentation: bytes, publicKey: nil))
            }
        } catch {
            throw .malformedWrappedSecret(reason: "unsealed bytes are not an X-Wing seed")
        }
    }
}
