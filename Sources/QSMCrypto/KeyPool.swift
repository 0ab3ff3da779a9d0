/// The key pool of a pair of users: the BB84 keys they share, laid end to end, and the ranges consumed.
///
/// It is plain data a projection can hold and rebuild from events:
/// - `KeyExchangeCompleted` → ``append(_:)`` a ``Segment`` (its key wrapped under the master key; made
///   with ``makeSegment(keyID:key:bitCount:masterKey:)``, placed at ``nextSegmentStart``);
/// - `MessageSent` (otp, or aes with a new block) → ``recordConsumed(_:)`` its `pool_ranges`.
///
/// To seal, a command handler reserves on its copy of the state: ``reserveOTP(messageByteCount:)`` or
/// ``reserveAESBlock()`` marks the bits consumed and returns a non-copyable ``PoolReservation``, which is
/// turned, once, into key material. Consumption only moves forward: bits below ``frontier`` are never
/// handed out again, and ``recordConsumed(_:)`` refuses any range below it, so replaying a log in which
/// a range was used twice fails loudly.
public struct KeyPool: Sendable, Hashable {
    /// One BB84 key in the pool.
    public struct Segment: Sendable, Hashable {
        /// Names the key material (the `key_id` of its key exchange); unique across the broker.
        public let keyID: String
        /// The pool bit where it starts (a multiple of 8).
        public let start: UInt64
        /// Its length in bits; only whole bytes are handed out, the last `bitCount % 8` bits are skipped.
        public let bitCount: UInt64
        /// The key, wrapped under the master key with context ``wrapContext``.
        public let wrappedKey: WrappedSecret

        /// A segment as read back from an event.
        public init(keyID: String, start: UInt64, bitCount: UInt64, wrappedKey: WrappedSecret) {
            self.keyID = keyID
            self.start = start
            self.bitCount = bitCount
            self.wrappedKey = wrappedKey
        }

        /// The end of the bytes that can be handed out.
        public var usableEnd: UInt64 { start + bitCount / 8 * 8 }
        /// The wrapping context binding the wrapped key to this key id.
        public var wrapContext: String { Self.wrapContext(keyID: keyID) }

        static func wrapContext(keyID: String) -> String { "pool-segment/" + keyID }
    }

    /// The pair sharing the pool.
    public let pair: UserPair
    /// The segments, in pool order.
    public private(set) var segments: [Segment] = []
    /// Every consumed range, merged where adjacent, in pool order.
    public private(set) var consumed: [PoolRange] = []
    /// Every bit below this is consumed or skipped; reservations start here.
    public private(set) var frontier: UInt64 = 0
    /// Usable bits of segments `0..<i` (for ``availableBits`` in logarithmic time).
    private var usableBefore: [UInt64] = []

    /// An empty pool for `pair`.
    public init(pair: UserPair) { self.pair = pair }

    /// Where the next segment starts: the end of the last one, rounded up to a byte.
    public var nextSegmentStart: UInt64 { segments.last.map { ($0.start + $0.bitCount + 7) / 8 * 8 } ?? 0 }

    /// Bits that can still be handed out.
    public var availableBits: UInt64 {
        guard let last = segments.last else { return 0 }
        let total = usableBefore[segments.count - 1] + (last.usableEnd - last.start)
        return total - usableBits(below: frontier)
    }

    /// Bits an otp message of `messageByteCount` bytes consumes: the pad plus a 256-bit Poly1305 key.
    public static func otpCost(messageByteCount: Int) -> UInt64 { UInt64(messageByteCount) * 8 + 256 }

    /// Wraps a fresh BB84 key under `masterKey` as the pool's next segment (not yet appended).
    /// - Parameters:
    ///   - key: the key's bytes, at least `(bitCount + 7) / 8` of them, most significant bit first.
    ///   - bitCount: the key's length in bits.
    public func makeSegment(
        keyID: String, key: SecretBytes, bitCount: UInt64, masterKey: MasterKey
    ) throws(QSMCryptoError) -> Segment {
        guard UInt64(key.count) * 8 >= bitCount else {
            throw .wrongKeySize(expected: Int((bitCount + 7) / 8), actual: key.count)
        }
        let start = nextSegmentStart
        return Segment(
            keyID: keyID, start: start, bitCount: bitCount,
            wrappedKey: try masterKey.wrap(key, context: Segment.wrapContext(keyID: keyID)))
    }

    /// Adds a segment (evolve of `KeyExchangeCompleted`).
    /// - Throws: ``QSMCryptoError/segmentOutOfOrder(keyID:start:expectedAtLeast:)`` when it does not start
    ///   on a byte boundary at or after ``nextSegmentStart``, or repeats a key id.
    public mutating func append(_ segment: Segment) throws(QSMCryptoError) {
        let expected = nextSegmentStart
        guard segment.start >= expected, segment.start % 8 == 0, segment.start.addingReportingOverflow(segment.bitCount).overflow == false,
            !segments.contains(where: { $0.keyID == segment.keyID })
        else { throw .segmentOutOfOrder(keyID: segment.keyID, start: segment.start, expectedAtLeast: expected) }
        let before = segments.last.map { usableBefore[segments.count - 1] + ($0.usableEnd - $0.start) } ?? 0
        segments.append(segment)
        usableBefore.append(before)
    }

    /// Reserves the bits of one otp message: 256 bits of Poly1305 key, then `messageByteCount` bytes of pad.
    /// - Throws: ``QSMCryptoError/poolTooShort(neededBits:availableBits:)``; the pool is unchanged then.
    public mutating func reserveOTP(messageByteCount: Int) throws(QSMCryptoError) -> PoolReservation {
        PoolReservation(pair: pair, purpose: .otp(messageByteCount: messageByteCount),
            ranges: try reserve(bytes: UInt64(Poly1305.keyByteCount) + UInt64(max(messageByteCount, 0))))
    }

    /// Reserves a 256-bit block for mode aes.
    /// - Throws: ``QSMCryptoError/poolTooShort(neededBits:availableBits:)``; the pool is unchanged then.
    public mutating func reserveAESBlock() throws(QSMCryptoError) -> PoolReservation {
        PoolReservation(pair: pair, purpose: .aesBlock, ranges: try reserve(bytes: UInt64(AESBlock.keyByteCount)))
    }

    /// Records ranges as consumed (evolve of `MessageSent`). Ranges must be byte-aligned, inside a segment,
    /// and at or above ``frontier`` in order; recording a range again is refused.
    /// - Throws: ``QSMCryptoError/rangeAlreadyConsumed(start:length:)`` or
    ///   ``QSMCryptoError/rangeOutsidePool(start:length:)``; the pool is unchanged then.
    public mutating func recordConsumed(_ ranges: [PoolRange]) throws(QSMCryptoError) {
        var copy = self
        for range in ranges {
            guard range.start >= copy.frontier else {
                throw .rangeAlreadyConsumed(start: range.start, length: range.length)
            }
            guard range.length > 0, range.isByteAligned, let index = segmentIndex(containing: range.start),
                range.end <= segments[index].usableEnd
            else { throw .rangeOutsidePool(start: range.start, length: range.length) }
            copy.markConsumed(range)
        }
        self = copy
    }

    /// Retires every bit not yet handed out (evolve of `KeyMaterialRetired`): the frontier moves to the end of
    /// the last segment, so those bits are never reserved, and a range recorded below it later is refused.
    /// Segments appended afterwards are usable as usual. Retired bits are not consumed: no message opens
    /// with them.
    /// - Returns: the bits retired.
    @discardableResult
    public mutating func retireUnused() -> UInt64 {
        guard let last = segments.last else { return 0 }
        let unused = availableBits
        frontier = max(frontier, last.usableEnd)
        return unused
    }

    /// Moves the frontier to `bit` (at most the end of the last segment) when it is lower: restores a
    /// retirement from a snapshot, which keeps the frontier beside the consumed ranges.
    public mutating func retire(below bit: UInt64) {
        guard let last = segments.last else { return }
        frontier = max(frontier, min(bit, last.usableEnd))
    }

    /// Whether every bit of `range` is recorded as consumed.
    public func isConsumed(_ range: PoolRange) -> Bool {
        guard range.length > 0 else { return true }
        var low = 0
        var high = consumed.count
        while low < high {
            let mid = (low + high) / 2
            if consumed[mid].end <= range.start { low = mid + 1 } else { high = mid }
        }
        return low < consumed.count && consumed[low].start <= range.start && range.end <= consumed[low].end
    }

    // MARK: - Internals

    private mutating func reserve(bytes: UInt64) throws(QSMCryptoError) -> [PoolRange] {
        let needed = bytes * 8
        let available = availableBits
        guard needed <= available else { throw .poolTooShort(neededBits: needed, availableBits: available) }
        var ranges: [PoolRange] = []
        var remaining = needed
        var index = segmentIndex(atOrAfter: frontier)
        while remaining > 0 {
            let segment = segments[index]
            let from = max(frontier, segment.start)
            if from < segment.usableEnd {
                let take = min(remaining, segment.usableEnd - from)
                let range = PoolRange(start: from, length: take)
                ranges.append(range)
                markConsumed(range)
                remaining -= take
            }
            index += 1
        }
        return ranges
    }

    private mutating func markConsumed(_ range: PoolRange) {
        if let last = consumed.last, last.end == range.start {
            consumed[consumed.count - 1].length += range.length
        } else {
            consumed.append(range)
        }
        frontier = range.end
    }

    /// The index of the segment whose usable part holds `bit`, if any.
    func segmentIndex(containing bit: UInt64) -> Int? {
        let index = lastSegment(startingAtOrBefore: bit)
        guard let index, bit < segments[index].usableEnd else { return nil }
        return index
    }

    /// The first segment whose usable part ends after `bit`.
    private func segmentIndex(atOrAfter bit: UInt64) -> Int {
        guard let index = lastSegment(startingAtOrBefore: bit) else { return 0 }
        return bit < segments[index].usableEnd ? index : index + 1
    }

    private func lastSegment(startingAtOrBefore bit: UInt64) -> Int? {
        var low = 0
        var high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].start <= bit { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    private func usableBits(below bit: UInt64) -> UInt64 {
        guard let index = lastSegment(startingAtOrBefore: bit) else { return 0 }
        let segment = segments[index]
        return usableBefore[index] + (min(bit, segment.usableEnd) - segment.start)
    }
}
