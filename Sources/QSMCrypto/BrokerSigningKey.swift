public import Foundation
internal import Crypto

/// The broker's ML-DSA-65 signing key, for signed checkpoints. Its 32-byte seed is kept like the master
/// key: a file of mode 0600, created at first start, refused when group or others may access it.
public final class BrokerSigningKey: Sendable {
    private let key: MLDSA65.PrivateKey
    /// The public key (FIPS 204 encoding).
    public let publicKey: Data
    /// SHA-256 of ``publicKey`` (the `public_key_id` of a checkpoint).
    public let publicKeyID: Data

    /// The algorithm name written into events.
    public static let algorithm = "ML-DSA-65"
    static let context = Data("qsm-broker-signature-v1".utf8)

    /// Reads the seed file at `path`, or creates it when there is none (same checks as ``MasterKey``).
    public static func loadOrCreate(at path: String) throws(QSMCryptoError) -> BrokerSigningKey {
        let (seed, _) = try KeyFile.loadOrCreate(path: path, byteCount: 32) { SecretBytes(randomCount: 32) }
        return try BrokerSigningKey(seed: seed)
    }

    /// Reads the seed file at `path`; nil when there is none (qsmd then decides whether a new key may be
    /// made: not silently for a log that holds checkpoints).
    public static func load(at path: String) throws(QSMCryptoError) -> BrokerSigningKey? {
        guard let seed = try KeyFile.load(path: path, byteCount: 32, missingIsNil: true) else { return nil }
        return try BrokerSigningKey(seed: seed)
    }

    /// A key held only in memory (tests, benchmarks).
    public static func ephemeral() throws(QSMCryptoError) -> BrokerSigningKey {
        try BrokerSigningKey(seed: SecretBytes(randomCount: 32))
    }

    private init(seed: SecretBytes) throws(QSMCryptoError) {
        do {
            key = try seed.withUnsafeBytes { try MLDSA65.PrivateKey(seedRepresentation: $0, publicKey: nil) }
        } catch {
            throw .primitiveFailed(operation: "ML-DSA-65 key from seed")
        }
        publicKey = key.publicKey.rawRepresentation
        publicKeyID = Data(SHA256.hash(data: publicKey))
    }

    /// Signs `data` (with a fixed qsm context string).
    public func signature(for data: Data) throws(QSMCryptoError) -> Data {
        do { return try key.signature(for: data, context: Self.context) } catch {
            throw .primitiveFailed(operation: "ML-DSA-65 sign")
        }
    }

    /// Whether `signature` is a broker signature of `data` under `publicKey`.
    public static func isValidSignature(_ signature: Data, for data: Data, publicKey: Data) -> Bool {
        guard let key = try? MLDSA65.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: data, context: context)
    }
}

extension BrokerSigningKey: CustomStringConvertible, CustomReflectable {
    /// The public key id only.
    public var description: String {
        "BrokerSigningKey(\(Self.algorithm), public key id \(publicKeyID.prefix(8).map { String(format: "%02x", $0) }.joined()))"
    }
    /// The public key id only.
    public var customMirror: Mirror { Mirror(self, children: ["publicKeyID": publicKeyID]) }
}
