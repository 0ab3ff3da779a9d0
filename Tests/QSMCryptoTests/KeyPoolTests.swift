import Foundation
import QSMCrypto
import Testing

@Suite struct KeyPoolTests {
    let master = MasterKey.ephemeral()

    @Test func segmentsStartOnByteBoundariesAndTailBitsAreSkipped() throws {
        let pool = try makePool(bits: [1003, 517, 64], masterKey: master)
        #expect(pool.segments.map(\.start) == [0, 1008, 1528])
        #expect(pool.nextSegmentStart == 1592)
        // 1000 + 512 + 64 usable bits.
        #expect(pool.availableBits == 1576)
        #expect(pool.segments.allSatisfy { $0.wrappedKey.keyID == master.keyID })
    }

    @Test func reservationsNeverOverlapAndCrossSegments() throws {
        var pool = try makePool(bits: [1003, 517, 64], masterKey: master)
        let first = try pool.reserveOTP(messageByteCount: 90)  // 32 + 90 = 122 bytes = 976 bits
        #expect(first.ranges == [PoolRange(start: 0, length: 976)])
        let second = try pool.reserveOTP(messageByteCount: 10)  // 42 bytes: 24 bits in seg 0, 312 in seg 1
        #expect(second.ranges == [PoolRange(start: 976, length: 24), PoolRange(start: 1008, length: 312)])
        #expect(pool.frontier == 1320)
        #expect(pool.availableBits == 1576 - 976 - 336)
        #expect(pool.consumed == [PoolRange(start: 0, length: 1000), PoolRange(start: 1008, length: 312)])
        for range in first.ranges + second.ranges { #expect(pool.isConsumed(range)) }
        #expect(!pool.isConsumed(PoolRange(start: 1320, length: 8)))
        #expect(!pool.isConsumed(PoolRange(start: 1000, length: 8)))  // a skipped tail was never consumed
    }

    @Test func shortPoolIsATypedErrorAndChangesNothing() throws {
        var pool = try makePool(bits: [512], masterKey: master)
        let before = pool
        #expect(throws: QSMCryptoError.poolTooShort(neededBits: 8 * 33 + 256, availableBits: 512)) {
            _ = try pool.reserveOTP(messageByteCount: 33)
        }
        #expect(pool == before)
        _ = try pool.reserveOTP(messageByteCount: 32)  // exactly 512 bits
        #expect(pool.availableBits == 0)
        #expect(throws: QSMCryptoError.poolTooShort(neededBits: 256, availableBits: 0)) { _ = try pool.reserveAESBlock() }
        var empty = KeyPool(pair: UserPair("a", "b"))
        #expect(throws: QSMCryptoError.poolTooShort(neededBits: 256, availableBits: 0)) { _ = try empty.reserveAESBlock() }
    }

    @Test func replayRebuildsTheSameStateAndRefusesAnyReuse() throws {
        var live = try makePool(bits: [2048, 1024], masterKey: master)
        var recorded: [[PoolRange]] = []
        for size in [10, 0, 100, 7] { recorded.append(try live.reserveOTP(messageByteCount: size).ranges) }
        recorded.append(try live.reserveAESBlock().ranges)

        var replayed = KeyPool(pair: live.pair)
        for segment in live.segments { try replayed.append(segment) }
        for ranges in recorded { try replayed.recordConsumed(ranges) }
        #expect(replayed == live)

        // A second use of any consumed range, whole or in part, is refused and changes nothing.
        for ranges in recorded {
            for range in ranges {
                let before = replayed
                #expect(throws: QSMCryptoError.rangeAlreadyConsumed(start: range.start, length: range.length)) {
                    try replayed.recordConsumed([range])
                }
                let inner = PoolRange(start: range.start + 8, length: 8)
                if range.length >= 16 {
                    #expect(throws: QSMCryptoError.self) { try replayed.recordConsumed([inner]) }
                }
                #expect(replayed == before)
            }
        }
        // A batch whose second range repeats the first is refused as a whole.
        let fresh = PoolRange(start: replayed.frontier, length: 64)
        let before = replayed
        #expect(throws: QSMCryptoError.rangeAlreadyConsumed(start: fresh.start, length: 64)) {
            try replayed.recordConsumed([fresh, fresh])
        }
        #expect(replayed == before)
    }

    @Test func recordedRangesMustLieInsideSegmentsOnByteBoundaries() throws {
        var pool = try makePool(bits: [1003, 512], masterKey: master)
        for bad in [
            PoolRange(start: 4, length: 8), PoolRange(start: 0, length: 12), PoolRange(start: 0, length: 0),
            PoolRange(start: 1000, length: 8),  // the skipped tail of segment 0
            PoolRange(start: 992, length: 16),  // runs past segment 0's usable end
            PoolRange(start: 1008 + 512, length: 8),  // past the pool
        ] {
            #expect(throws: QSMCryptoError.rangeOutsidePool(start: bad.start, length: bad.length)) {
                try pool.recordConsumed([bad])
            }
        }
        #expect(pool.consumed.isEmpty)
    }

    @Test func segmentsOutOfOrderOrRepeatedAreRefused() throws {
        var pool = try makePool(bits: [100], masterKey: master)
        let wrapped = pool.segments[0].wrappedKey
        for segment in [
            KeyPool.Segment(keyID: "x", start: 8, bitCount: 64, wrappedKey: wrapped),  // overlaps
            KeyPool.Segment(keyID: "x", start: 108, bitCount: 64, wrappedKey: wrapped),  // not byte-aligned
            KeyPool.Segment(keyID: pool.segments[0].keyID, start: 104, bitCount: 64, wrappedKey: wrapped),  // repeated id
        ] {
            #expect(throws: QSMCryptoError.self) { try pool.append(segment) }
        }
        try pool.append(KeyPool.Segment(keyID: "x", start: 104, bitCount: 64, wrappedKey: wrapped))
        #expect(pool.segments.count == 2)
    }

    @Test func aReservationOnlyWorksOnItsOwnPool() throws {
        var pool = try makePool(bits: [4096], masterKey: master)
        let other = try makePool(bits: [4096], masterKey: master, pair: UserPair("carol", "dave"))
        let reservation = try pool.reserveOTP(messageByteCount: 4)
        expectRefused(reservation) { _ = try other.takeOTPKey($0, keys: master) }
        // The pool state before the reservation (a stale copy) does not hand out its bits either.
        let stale = try makePool(bits: [4096], masterKey: master)
        var copy = stale
        let fromCopy = try copy.reserveOTP(messageByteCount: 4)
        expectRefused(fromCopy) { _ = try stale.takeOTPKey($0, keys: master) }
        // An aes reservation is not an otp key, and the other way round.
        let block = try pool.reserveAESBlock()
        expectRefused(block) { _ = try pool.takeOTPKey($0, keys: master) }
        let otp = try pool.reserveOTP(messageByteCount: 1)
        expectRefused(otp) { _ = try pool.takeAESBlock($0, startedAtMicroseconds: 0, keys: master) }
    }

    @Test func cacheAndMasterKeyGiveTheSameBytes() throws {
        var pool = try makePool(bits: [8192], masterKey: master)
        let cache = SegmentKeyCache(masterKey: master)
        let reservation = try pool.reserveOTP(messageByteCount: 100)
        let ranges = reservation.ranges
        let message = Data((0..<100).map { UInt8($0) })
        let sealed = try OTPCipher.seal(message, context: context(), key: pool.takeOTPKey(reservation, keys: cache))
        #expect(try OTPCipher.open(sealed, context: context(), key: pool.otpOpeningKey(ranges: ranges, keys: master)) == message)
        // Segment keys under another master key do not unwrap.
        #expect(throws: QSMCryptoError.self) {
            try pool.otpOpeningKey(ranges: ranges, keys: MasterKey.ephemeral())
        }
    }
}
