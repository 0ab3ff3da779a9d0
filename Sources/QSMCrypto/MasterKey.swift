public import Foundation
internal import Crypto

/// The broker's master key: 32 random bytes in a file of mode 0600, created at first start. It wraps every
/// secret that must live in the log (BB84 keys, the signing seed's siblings) with AES-256-GCM, binding its
/// key id and the caller's context as associated data.
public final class MasterKey: Sendable {
    private let key: SymmetricKey

    /// `master:` and the first 8 bytes, in hex, of SHA-256 over a label and the key: names the key in
    /// ``WrappedSecret/keyID`` without revealing it.
    public let keyID: String

    /// The key's length in bytes.
    public static let byteCount = 32

    /// Reads the master key file at `path`, or creates it (32 random bytes, mode 0600) when there is none.
    /// - Throws: ``QSMCryptoError/keyFileTooOpen(path:mode:)`` when group or others may access it;
    ///   ``QSMCryptoError/keyFileWrongSize(path:expected:actual:)``, ``QSMCryptoError/keyFileNotRegular(path:)``,
    ///   ``QSMCryptoError/keyFileUnreadable(path:reason:)``, ``QSMCryptoError/keyFileNotCreated(path:reason:)``.
    public static func loadOrCreate(at path: String) throws(QSMCryptoError) -> MasterKey {
        let (bytes, _) = try KeyFile.loadOrCreate(path: path, byteCount: byteCount) {
            SecretBytes(randomCount: byteCount)
        }
        return MasterKey(bytes: bytes)
    }

    /// Reads an existing master key file; never creates one.
    public static func load(at path: String) throws(QSMCryptoError) -> MasterKey {
        MasterKey(bytes: try KeyFile.load(path: path, byteCount: byteCount, missingIsNil: false)!)
    }

    /// A master key held only in memory (tests, benchmarks).
    public static func ephemeral() -> MasterKey { MasterKey(bytes: SecretBytes(randomCount: byteCount)) }

    private init(bytes: SecretBytes) {
        key = bytes.withUnsafeBytes { SymmetricKey(data: $0) }
        keyID = "master:" + bytes.withUnsafeBytes { raw in
            var input = Data("qsm-master-key-id-v1".utf8)
            input.append(contentsOf: raw)
            return SHA256.hash(data: input).prefix(8).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// Wraps `secret` under this key.
    /// - Parameter context: what the secret is (for example a pool segment's key id); bound as associated
    ///   data, so the wrapped bytes do not unwrap under another context.
    public func wrap(_ secret: SecretBytes, context: String) throws(QSMCryptoError) -> WrappedSecret {
        try SecretWrapping.wrap(secret, key: key, keyID: keyID, context: context, kdf: "")
    }

    /// An HMAC-SHA256 of `data` under a key derived from this one for authentication only (HKDF, so the
    /// wrapping key is never used for anything else), bound to `context`: for state the broker keeps
    /// beside its log (snapshots), which anyone who can write the data directory could otherwise edit.
    public func authenticationCode(for data: Data, context: String) -> Data {
        // The context goes first, length-prefixed, so no (context, data) pair can pass for another; the
        // data is fed as it is (a snapshot can be hundreds of MB: no copy).
        var hmac = HMAC<SHA256>(key: HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, info: Data("qsm-master-authentication-v1".utf8), outputByteCount: 32))
        hmac.update(data: withUnsafeBytes(of: UInt64(context.utf8.count).bigEndian) { Data($0) })
        hmac.update(data: Data(context.utf8))
        hmac.update(data: data)
        return Data(hmac.finalize())
    }

    /// Whether `code` is ``authenticationCode(for:context:)`` of `data` and `context` (compared in
    /// constant time, by libsodium).
    public func isAuthentic(_ code: Data, for data: Data, context: String) -> Bool {
        let expected = authenticationCode(for: data, context: context)
        return expected.withUnsafeBytes { a in code.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
    }

    /// Unwraps a secret made by ``wrap(_:context:)`` with the same `context`.
    /// - Throws: ``QSMCryptoError/wrongWrappingKey(expected:found:)`` when another key wrapped it,
    ///   ``QSMCryptoError/unwrapFailed(keyID:)`` when it does not authenticate,
    ///   ``QSMCryptoError/malformedWrappedSecret(reason:)`` for malformed fields.
    public func unwrap(_ wrapped: WrappedSecret, context: String) throws(QSMCryptoError) -> SecretBytes {
        try SecretWrapping.unwrap(wrapped, key: key, expectedKeyID: keyID, context: context)
    }
}

extension MasterKey: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key id only.
    public var description: String { "MasterKey(\(keyID))" }
    /// The key id only.
    public var debugDescription: String { description }
    /// The key id only.
    public var customMirror: Mirror { Mirror(self, children: ["keyID": keyID]) }
}
