internal import Synchronization

/// Where a pool's key material comes from: the unwrapped bytes of a segment's BB84 key.
public protocol SegmentKeySource: Sendable {
    /// The segment's key bytes (at least `(bitCount + 7) / 8`).
    func key(for segment: KeyPool.Segment) throws(QSMCryptoError) -> SecretBytes
}

extension MasterKey: SegmentKeySource {
    /// Unwraps the segment's key (every call: use a ``SegmentKeyCache`` on hot paths).
    public func key(for segment: KeyPool.Segment) throws(QSMCryptoError) -> SecretBytes {
        try unwrap(segment.wrappedKey, context: segment.wrapContext)
    }
}

/// Unwrapped segment keys, kept in memory (zeroed when evicted or dropped) so that sealing does not unwrap
/// a whole BB84 key per message. Keyed by segment key id, which the broker keeps unique.
public final class SegmentKeyCache: SegmentKeySource {
    private let masterKey: MasterKey
    private let keys = Mutex<[String: SecretBytes]>([:])

    /// A cache unwrapping with `masterKey`.
    public init(masterKey: MasterKey) { self.masterKey = masterKey }

    /// The segment's key, unwrapped once.
    public func key(for segment: KeyPool.Segment) throws(QSMCryptoError) -> SecretBytes {
        if let cached = keys.withLock({ $0[segment.keyID] }) { return cached }
        let key = try masterKey.key(for: segment)
        keys.withLock { $0[segment.keyID] = key }
        return key
    }

    /// Drops the key of `keyID` (for example once a segment is fully consumed and its messages read).
    public func evict(keyID: String) { _ = keys.withLock { $0.removeValue(forKey: keyID) } }
}
