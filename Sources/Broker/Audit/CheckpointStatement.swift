public import Foundation
import QSMCrypto

/// What a signed checkpoint vouches for: that the log `logID` held, at `position`, the chain hash
/// `chainHash`. The signature covers a fixed, length-unambiguous encoding of exactly these three, so a
/// checkpoint cannot be moved to another log or another position.
public struct CheckpointStatement: Sendable, Hashable {
    public let logID: UUID
    public let position: UInt64
    public let chainHash: Data

    public init(logID: UUID, position: UInt64, chainHash: Data) {
        self.logID = logID
        self.position = position
        self.chainHash = chainHash
    }

    static let domain = Data("qsm-checkpoint-v1\0".utf8)

    /// The bytes signed: "qsm-checkpoint-v1\0" || log id (16 bytes) || be64(position) || chain hash (32).
    public var signedBytes: Data {
        var bytes = Self.domain
        withUnsafeBytes(of: logID.uuid) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: position.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(chainHash)
        return bytes
    }

    /// Whether `signature` is the broker's signature of this statement under `publicKey`.
    public func isSigned(by publicKey: Data, signature: Data) -> Bool {
        BrokerSigningKey.isValidSignature(signature, for: signedBytes, publicKey: publicKey)
    }
}
