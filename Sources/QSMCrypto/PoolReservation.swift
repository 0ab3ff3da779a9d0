/// Pool bits reserved for one use, already marked consumed in the pool that made them.
///
/// Non-copyable: it is turned into key material exactly once (``KeyPool/takeOTPKey(_:keys:)`` or
/// ``KeyPool/takeAESBlock(_:startedAtMicroseconds:keys:)``), so one reservation cannot seal twice.
/// Write ``ranges`` into the event that records the use.
public struct PoolReservation: ~Copyable, Sendable {
    /// What the bits are for.
    public enum Purpose: Sendable, Hashable {
        /// An otp message of this many bytes: 256 bits of Poly1305 key, then the pad.
        case otp(messageByteCount: Int)
        /// A 256-bit aes block.
        case aesBlock
    }

    /// The pair whose pool it came from.
    public let pair: UserPair
    /// What the bits are for.
    public let purpose: Purpose
    /// The consumed ranges, in the order their bits are used.
    public let ranges: [PoolRange]

    init(pair: UserPair, purpose: Purpose, ranges: [PoolRange]) {
        self.pair = pair
        self.purpose = purpose
        self.ranges = ranges
    }
}

extension KeyPool {
    /// Turns an otp reservation into its one-time key (Poly1305 key and pad), consuming the reservation.
    /// - Throws: ``QSMCryptoError/mismatchedKeyMaterial(reason:)`` when the reservation is not an otp one of
    ///   this pool, or errors from unwrapping the segments.
    public func takeOTPKey(
        _ reservation: consuming PoolReservation, keys: some SegmentKeySource
    ) throws(QSMCryptoError) -> OTPSealingKey {
        guard case .otp(let messageByteCount) = reservation.purpose else {
            throw .mismatchedKeyMaterial(reason: "not an otp reservation")
        }
        try checkReservation(reservation)
        return OTPSealingKey(
            material: try material(reservation.ranges, keys: keys), messageByteCount: messageByteCount)
    }

    /// The key to open an otp message whose event recorded `ranges`.
    /// - Throws: ``QSMCryptoError/rangeNotConsumed(start:length:)`` when a range was never consumed
    ///   (opening never hands out fresh bits), ``QSMCryptoError/malformedCiphertext(reason:)`` when the
    ///   ranges are shorter than a Poly1305 key.
    public func otpOpeningKey(ranges: [PoolRange], keys: some SegmentKeySource) throws(QSMCryptoError) -> OTPOpeningKey {
        try checkRecorded(ranges)
        let total = ranges.reduce(0) { $0 + $1.length }
        guard total >= UInt64(Poly1305.keyByteCount) * 8 else {
            throw .malformedCiphertext(reason: "otp ranges hold \(total) bits, fewer than a Poly1305 key")
        }
        return OTPOpeningKey(material: try material(ranges, keys: keys))
    }

    /// Turns an aes reservation into a new block and its key (one HKDF), consuming the reservation.
    public func takeAESBlock(
        _ reservation: consuming PoolReservation, startedAtMicroseconds: Int64, keys: some SegmentKeySource
    ) throws(QSMCryptoError) -> (block: AESBlock, key: AESBlockKey) {
        guard case .aesBlock = reservation.purpose else {
            throw .mismatchedKeyMaterial(reason: "not an aes block reservation")
        }
        try checkReservation(reservation)
        let block = AESBlock(ranges: reservation.ranges, startedAtMicroseconds: startedAtMicroseconds)
        return (block, try AESBlockKey(pair: pair, ranges: reservation.ranges, material: material(reservation.ranges, keys: keys)))
    }

    /// The key of an aes block already recorded (after a restart, or to open its messages).
    public func aesBlockKey(ranges: [PoolRange], keys: some SegmentKeySource) throws(QSMCryptoError) -> AESBlockKey {
        try checkRecorded(ranges)
        let total = ranges.reduce(0) { $0 + $1.length }
        guard total == UInt64(AESBlock.keyByteCount) * 8 else {
            throw .malformedCiphertext(reason: "aes block ranges hold \(total) bits, expected 256")
        }
        return try AESBlockKey(pair: pair, ranges: ranges, material: material(ranges, keys: keys))
    }

    private func checkReservation(_ reservation: borrowing PoolReservation) throws(QSMCryptoError) {
        guard reservation.pair == pair else {
            throw .mismatchedKeyMaterial(reason: "reservation is from the pool of \(reservation.pair), not \(pair)")
        }
        for range in reservation.ranges where !isConsumed(range) {
            throw .mismatchedKeyMaterial(reason: "reservation was not made on this pool's state")
        }
    }

    private func checkRecorded(_ ranges: [PoolRange]) throws(QSMCryptoError) {
        for range in ranges where !isConsumed(range) || !range.isByteAligned {
            throw .rangeNotConsumed(start: range.start, length: range.length)
        }
    }

    /// The bytes of `ranges`, concatenated, from the segments' unwrapped keys.
    private func material(_ ranges: [PoolRange], keys: some SegmentKeySource) throws(QSMCryptoError) -> SecretBytes {
        let total = Int(ranges.reduce(0) { $0 + $1.length } / 8)
        return try SecretBytes(uninitializedCount: total) { (out) throws(QSMCryptoError) in
            var offset = 0
            for range in ranges {
                guard let index = segmentIndex(containing: range.start), range.end <= segments[index].usableEnd else {
                    throw .rangeOutsidePool(start: range.start, length: range.length)
                }
                let segment = segments[index]
                let key = try keys.key(for: segment)
                let from = Int((range.start - segment.start) / 8)
                let count = Int(range.length / 8)
                guard from + count <= key.count else {
                    throw .wrongKeySize(expected: Int((segment.bitCount + 7) / 8), actual: key.count)
                }
                key.withUnsafeBytes { source in
                    (out.baseAddress! + offset).copyMemory(from: source.baseAddress! + from, byteCount: count)
                }
                offset += count
            }
        }
    }
}
