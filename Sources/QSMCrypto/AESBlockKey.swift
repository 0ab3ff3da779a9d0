import Foundation
internal import Crypto

/// The AES-256-GCM key of one aes block: HKDF-SHA256 of the block's 256 pool bits, derived once per block
/// (not per message). Keep it in memory for the block's life; it is zeroed when dropped.
public final class AESBlockKey: Sendable {
    /// The pool ranges of the block it belongs to.
    public let ranges: [PoolRange]
    let key: SymmetricKey

    init(pair: UserPair, ranges: [PoolRange], material: SecretBytes) throws(QSMCryptoError) {
        guard material.count == AESBlock.keyByteCount else {
            throw .wrongKeySize(expected: AESBlock.keyByteCount, actual: material.count)
        }
        var info = Data("qsm-aes-block-v1".utf8)
        info.appendLengthPrefixed(Data(pair.first.utf8))
        info.appendLengthPrefixed(Data(pair.second.utf8))
        for range in ranges {
            withUnsafeBytes(of: range.start.bigEndian) { info.append(contentsOf: $0) }
            withUnsafeBytes(of: range.length.bigEndian) { info.append(contentsOf: $0) }
        }
        let input = material.withUnsafeBytes { SymmetricKey(data: $0) }
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: input, salt: Data("qsm-aes-block".utf8), info: info, outputByteCount: 32)
        self.ranges = ranges
    }
}

extension AESBlockKey: CustomStringConvertible, CustomReflectable {
    /// The block's ranges only.
    public var description: String { "AESBlockKey(\(ranges), redacted)" }
    /// The block's ranges only.
    public var customMirror: Mirror { Mirror(self, children: ["ranges": ranges]) }
}
