import Foundation
import QSMCrypto
import Testing

/// A miniature of the broker's aes path: projection state (pool + current block) rebuilt from "events".
struct AESPair {
    struct Event {
        var ranges: [PoolRange]
        var counter: UInt64
        var sealed: AESSealed
        var context: MessageContext
        var time: Int64
    }

    var pool: KeyPool
    var block: AESBlock?
    var blockKey: AESBlockKey?  // in memory only, not state
    var events: [Event] = []

    /// Decide + evolve for one send.
    mutating func send(_ message: Data, context: MessageContext, at time: Int64, policy: AESRotationPolicy, keys: some SegmentKeySource) throws -> Event {
        var pool = self.pool
        var block = self.block
        var key = blockKey
        if block == nil || block!.needsRotation(atMicroseconds: time, policy: policy) {
            let reservation = try pool.reserveAESBlock()
            let taken = try pool.takeAESBlock(reservation, startedAtMicroseconds: time, keys: keys)
            (block, key) = (taken.block, taken.key)
        } else if key == nil {
            key = try pool.aesBlockKey(ranges: block!.ranges, keys: keys)  // after a restart
        }
        let nonce = try block!.takeNonce(atMicroseconds: time, policy: policy)
        let counter = nonce.counter
        let sealed = try AESCipher.seal(message, context: context, key: key!, nonce: nonce)
        let event = Event(ranges: key!.ranges, counter: counter, sealed: sealed, context: context, time: time)
        try apply(event)
        blockKey = key
        events.append(event)
        return event
    }

    /// Evolve.
    mutating func apply(_ event: Event) throws {
        if block?.ranges != event.ranges {
            try pool.recordConsumed(event.ranges)
            block = AESBlock(ranges: event.ranges, startedAtMicroseconds: event.time)
            blockKey = nil
        }
        try block!.recordCounter(event.counter)
    }

    /// A restart: segments and events replayed into fresh state, no in-memory key.
    func restarted() throws -> AESPair {
        var fresh = AESPair(pool: KeyPool(pair: pool.pair))
        for segment in pool.segments { try fresh.pool.append(segment) }
        for event in events { try fresh.apply(event) }
        fresh.events = events
        return fresh
    }
}

@Suite struct AESTests {
    let master = MasterKey.ephemeral()

    @Test func roundTripAndFlippedBits() throws {
        var pair = AESPair(pool: try makePool(bits: [4096], masterKey: master))
        for size in [0, 1, 256, 65_536] {
            let message = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let event = try pair.send(message, context: context(), at: 0, policy: .default, keys: master)
            #expect(event.sealed.ciphertext.count == size + 16)
            #expect(event.sealed.nonce == Data(count: 4) + withUnsafeBytes(of: event.counter.bigEndian) { Data($0) })
            let key = try pair.pool.aesBlockKey(ranges: event.ranges, keys: master)
            #expect(try AESCipher.open(event.sealed, context: context(), key: key) == message)
        }
        let event = pair.events[2]
        let key = try pair.pool.aesBlockKey(ranges: event.ranges, keys: master)
        for bit in stride(from: 0, to: event.sealed.ciphertext.count * 8, by: 13) {
            var altered = event.sealed
            altered.ciphertext[bit / 8] ^= 1 << (bit % 8)
            #expect(throws: QSMCryptoError.authenticationFailed) { try AESCipher.open(altered, context: context(), key: key) }
        }
        var otherCounter = event.sealed
        otherCounter.counter += 1
        #expect(throws: QSMCryptoError.authenticationFailed) { try AESCipher.open(otherCounter, context: context(), key: key) }
        #expect(throws: QSMCryptoError.authenticationFailed) { try AESCipher.open(event.sealed, context: context(9), key: key) }
        #expect(throws: QSMCryptoError.authenticationFailed) {
            try AESCipher.open(event.sealed, context: context(sender: "bob", recipient: "alice"), key: key)
        }
        #expect(throws: QSMCryptoError.self) {
            try AESCipher.open(AESSealed(counter: 0, ciphertext: Data(count: 15)), context: context(), key: key)
        }
    }

    @Test func rotationHappensAtTheConfiguredCountAndAge() throws {
        let policy = AESRotationPolicy(maxMessages: 3, maxAgeMicroseconds: 1_000)
        var pair = AESPair(pool: try makePool(bits: [4096], masterKey: master))
        var blocks: [[PoolRange]] = []
        for time in [0, 1, 2, 3, 4, 5, 6] as [Int64] {
            blocks.append(try pair.send(Data("m".utf8), context: context(), at: time, policy: policy, keys: master).ranges)
        }
        #expect(blocks[0] == blocks[1] && blocks[1] == blocks[2])
        #expect(blocks[3] != blocks[2])
        #expect(blocks[3] == blocks[4] && blocks[4] == blocks[5])
        #expect(blocks[6] != blocks[5])
        #expect(pair.events.map(\.counter) == [0, 1, 2, 0, 1, 2, 0])
        // Age: the next message 1 ms after the block started gets a new block.
        let before = try pair.send(Data("m".utf8), context: context(), at: 500, policy: policy, keys: master).ranges
        let after = try pair.send(Data("m".utf8), context: context(), at: 6 + 1_000, policy: policy, keys: master).ranges
        #expect(before == blocks[6])
        #expect(after != before)
        // The block itself refuses a nonce once exhausted.
        var block = AESBlock(ranges: after, startedAtMicroseconds: 0)
        for _ in 0..<3 { _ = try block.takeNonce(atMicroseconds: 0, policy: policy) }
        #expect(throws: QSMCryptoError.aesBlockExhausted(messages: 3, ageMicroseconds: 0)) {
            _ = try block.takeNonce(atMicroseconds: 0, policy: policy)
        }
        #expect(AESRotationPolicy.default.maxMessages == 1_000)
        #expect(AESRotationPolicy.default.maxAgeMicroseconds == 3_600_000_000)
    }

    @Test func noKeyNoncePairIsEverUsedTwiceAcrossRestarts() throws {
        let policy = AESRotationPolicy(maxMessages: 5, maxAgeMicroseconds: .max)
        var pair = AESPair(pool: try makePool(bits: [2048, 1024], masterKey: master))
        var time: Int64 = 0
        for round in 0..<4 {
            for _ in 0..<(3 + round * 2) {
                _ = try pair.send(Data("x".utf8), context: context(), at: time, policy: policy, keys: master)
                time += 1
            }
            pair = try pair.restarted()  // the block key is gone; counters come from the log
        }
        var used = Set<String>()
        for event in pair.events {
            #expect(used.insert("\(event.ranges)#\(event.counter)").inserted)
            let key = try pair.pool.aesBlockKey(ranges: event.ranges, keys: master)
            #expect(try AESCipher.open(event.sealed, context: event.context, key: key) == Data("x".utf8))
        }
        #expect(used.count == 3 + 5 + 7 + 9)
        // Block key bits were consumed and never overlap one another.
        let blockRanges = Set(pair.events.map(\.ranges)).flatMap { $0 }.sorted()
        for (a, b) in zip(blockRanges, blockRanges.dropFirst()) { #expect(a.end <= b.start) }
    }

    @Test func aRepeatedCounterIsRefusedOnReplay() throws {
        var pair = AESPair(pool: try makePool(bits: [1024], masterKey: master))
        _ = try pair.send(Data("a".utf8), context: context(), at: 0, policy: .default, keys: master)
        _ = try pair.send(Data("b".utf8), context: context(), at: 0, policy: .default, keys: master)
        var forged = pair.events[1]
        forged.counter = 1
        #expect(throws: QSMCryptoError.aesCounterReused(counter: 1, expected: 2)) { try pair.apply(forged) }
        // A nonce of one block does not seal under another block's key.
        var pool = pair.pool
        let reservation = try pool.reserveAESBlock()
        let taken = try pool.takeAESBlock(reservation, startedAtMicroseconds: 0, keys: master)
        var oldBlock = pair.block!
        let nonce = try oldBlock.takeNonce(atMicroseconds: 0, policy: .default)
        expectRefused(nonce) { _ = try AESCipher.seal(Data(), context: context(), key: taken.key, nonce: $0) }
        // The key of a block that was never consumed cannot be derived.
        #expect(throws: QSMCryptoError.self) {
            try pair.pool.aesBlockKey(ranges: [PoolRange(start: pair.pool.frontier, length: 256)], keys: master)
        }
    }
}
