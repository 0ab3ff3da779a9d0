public import Foundation

/// A secret encrypted under a key the broker holds: the master key, or a key derived from a password.
/// It mirrors the `WrappedSecret` event message field for field; only this form of a secret goes to the log.
public struct WrappedSecret: Sendable, Hashable {
    /// Which key wrapped it (`master:<fingerprint>` or `password:<username>`); part of the associated data.
    public var keyID: String
    /// The AEAD: always ``algorithmAES256GCM`` when made here.
    public var algorithm: String
    /// The 12-byte AES-GCM nonce.
    public var nonce: Data
    /// Ciphertext followed by the 16-byte tag.
    public var sealed: Data
    /// For a password-derived key, the KDF as a PHC string without hash (`$argon2id$v=19$m=…$<salt>`);
    /// empty for the master key.
    public var kdf: String

    /// The algorithm name written into ``algorithm``.
    public static let algorithmAES256GCM = "AES-256-GCM"

    /// A wrapped secret as read back from an event.
    public init(keyID: String, algorithm: String, nonce: Data, sealed: Data, kdf: String) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.nonce = nonce
        self.sealed = sealed
        self.kdf = kdf
    }
}
