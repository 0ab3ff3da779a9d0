import Foundation
import QSMCrypto
import Testing

@Suite struct OTPTests {
    let master = MasterKey.ephemeral()

    /// Seals `message` from `pool`, returning what the event would carry.
    func seal(_ message: Data, pool: inout KeyPool, context: MessageContext = context()) throws -> (OTPSealed, [PoolRange]) {
        let reservation = try pool.reserveOTP(messageByteCount: message.count)
        let ranges = reservation.ranges
        return (try OTPCipher.seal(message, context: context, key: pool.takeOTPKey(reservation, keys: master)), ranges)
    }

    @Test(arguments: [0, 1, 65_536])
    func roundTrip(size: Int) throws {
        var pool = try makePool(bits: [UInt64(size) * 8 + 256 + 8 * 100], masterKey: master)
        var generator = SystemRandomNumberGenerator()
        let message = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let (sealed, ranges) = try seal(message, pool: &pool)
        #expect(sealed.ciphertext.count == size)
        #expect(sealed.tag.count == 16)
        #expect(ranges.reduce(0) { $0 + $1.length } == KeyPool.otpCost(messageByteCount: size))
        if size >= 64 { #expect(sealed.ciphertext != message) }
        let key = try pool.otpOpeningKey(ranges: ranges, keys: master)
        #expect(try OTPCipher.open(sealed, context: context(), key: key) == message)
    }

    @Test func everySingleBitFlipOfCiphertextOrTagFails() throws {
        var pool = try makePool(bits: [8192], masterKey: master)
        let message = Data("attack at dawn, bring the quantum cat; 64 bytes of plaintext....".utf8)
        let (sealed, ranges) = try seal(message, pool: &pool)
        let key = try pool.otpOpeningKey(ranges: ranges, keys: master)
        var failures = 0
        for part in 0..<2 {
            let count = part == 0 ? sealed.ciphertext.count : sealed.tag.count
            for bit in 0..<(count * 8) {
                var altered = sealed
                if part == 0 { altered.ciphertext[bit / 8] ^= 1 << (bit % 8) } else { altered.tag[bit / 8] ^= 1 << (bit % 8) }
                #expect(throws: QSMCryptoError.authenticationFailed) { try OTPCipher.open(altered, context: context(), key: key) }
                failures += 1
            }
        }
        #expect(failures == (message.count + 16) * 8)
        #expect(try OTPCipher.open(sealed, context: context(), key: key) == message)
    }

    @Test func changedAssociatedDataFails() throws {
        var pool = try makePool(bits: [4096], masterKey: master)
        let (sealed, ranges) = try seal(Data("hi".utf8), pool: &pool)
        let key = try pool.otpOpeningKey(ranges: ranges, keys: master)
        for other in [context(2), context(sender: "mallory"), context(recipient: "eve"), context(sender: "bob", recipient: "alice")] {
            #expect(throws: QSMCryptoError.authenticationFailed) { try OTPCipher.open(sealed, context: other, key: key) }
        }
    }

    @Test func truncatedOrMismatchedInputIsTyped() throws {
        var pool = try makePool(bits: [4096], masterKey: master)
        let (sealed, ranges) = try seal(Data("hello".utf8), pool: &pool)
        let key = try pool.otpOpeningKey(ranges: ranges, keys: master)
        for bad in [
            OTPSealed(ciphertext: sealed.ciphertext.dropLast(), tag: sealed.tag),
            OTPSealed(ciphertext: sealed.ciphertext + Data([0]), tag: sealed.tag),
            OTPSealed(ciphertext: sealed.ciphertext, tag: sealed.tag.dropLast()),
            OTPSealed(ciphertext: sealed.ciphertext, tag: Data()),
        ] {
            #expect {
                try OTPCipher.open(bad, context: context(), key: key)
            } throws: { error in
                if case .malformedCiphertext = error as? QSMCryptoError { return true }
                return false
            }
        }
        // A key reserved for 5 bytes does not seal 6.
        let reservation = try pool.reserveOTP(messageByteCount: 5)
        let key5 = try pool.takeOTPKey(reservation, keys: master)
        expectRefused(key5) { _ = try OTPCipher.seal(Data(count: 6), context: context(), key: $0) }
        // Ranges never consumed cannot be used to open (no fresh bits for openers), nor too-short ones.
        #expect(throws: QSMCryptoError.rangeNotConsumed(start: pool.frontier, length: 512)) {
            try pool.otpOpeningKey(ranges: [PoolRange(start: pool.frontier, length: 512)], keys: master)
        }
        #expect(throws: QSMCryptoError.self) {
            try pool.otpOpeningKey(ranges: [PoolRange(start: 0, length: 128)], keys: master)
        }
    }

    @Test func consecutiveMessagesUseDisjointPadsAndKeys() throws {
        var pool = try makePool(bits: [1 << 16], masterKey: master)
        let message = Data(repeating: 0, count: 32)
        var seen = Set<Data>()
        var allRanges: [PoolRange] = []
        for _ in 0..<50 {
            let (sealed, ranges) = try seal(message, pool: &pool)
            // An all-zero message shows the pad itself: never repeated.
            #expect(seen.insert(sealed.ciphertext).inserted)
            allRanges += ranges
        }
        let sorted = allRanges.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.end <= b.start) }
    }
}
