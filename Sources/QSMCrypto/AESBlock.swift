/// When an aes block is retired: after a number of messages or an age, whichever comes first.
/// Defaults and their reasoning are in docs/crypto.md.
public struct AESRotationPolicy: Sendable, Hashable {
    /// Messages sealed under one block before a new one is taken.
    public var maxMessages: UInt64
    /// Age, in microseconds of event time, after which a new block is taken.
    public var maxAgeMicroseconds: Int64

    /// A policy; `maxMessages` is at least 1.
    public init(maxMessages: UInt64, maxAgeMicroseconds: Int64) {
        self.maxMessages = max(maxMessages, 1)
        self.maxAgeMicroseconds = maxAgeMicroseconds
    }

    /// 1,000 messages or one hour.
    public static let `default` = AESRotationPolicy(maxMessages: 1_000, maxAgeMicroseconds: 3_600 * 1_000_000)
}

/// The state of a pair's current aes block, as a projection holds it: which pool bits key it, when it
/// started, and the next message counter. The counter is the GCM nonce, so it only moves forward: the
/// log makes each (block, counter) unique.
public struct AESBlock: Sendable, Hashable {
    /// Key length in bytes (256 bits of pool).
    public static let keyByteCount = 32

    /// The pool ranges of the block's 256 bits (its identity).
    public let ranges: [PoolRange]
    /// Event time the block was taken, microseconds since the Unix epoch.
    public let startedAtMicroseconds: Int64
    /// The counter the next message gets.
    public private(set) var nextCounter: UInt64 = 0

    /// A block as rebuilt from an event: the first `MessageSent` whose `pool_ranges` differ from the
    /// current block's starts a new block (and ``KeyPool/recordConsumed(_:)`` takes its ranges).
    public init(ranges: [PoolRange], startedAtMicroseconds: Int64) {
        self.ranges = ranges
        self.startedAtMicroseconds = startedAtMicroseconds
    }

    /// Whether the block must be retired before sealing at `now` under `policy`.
    public func needsRotation(atMicroseconds now: Int64, policy: AESRotationPolicy) -> Bool {
        nextCounter >= policy.maxMessages || now - startedAtMicroseconds >= policy.maxAgeMicroseconds
    }

    /// Takes the next nonce for sealing at `now` (decide), advancing the counter of this copy.
    /// - Throws: ``QSMCryptoError/aesBlockExhausted(messages:ageMicroseconds:)`` when the policy says rotate.
    public mutating func takeNonce(atMicroseconds now: Int64, policy: AESRotationPolicy) throws(QSMCryptoError) -> AESNonce {
        guard !needsRotation(atMicroseconds: now, policy: policy) else {
            throw .aesBlockExhausted(messages: nextCounter, ageMicroseconds: now - startedAtMicroseconds)
        }
        let counter = nextCounter
        nextCounter += 1
        return AESNonce(ranges: ranges, counter: counter)
    }

    /// Records that a message used `counter` (evolve of `MessageSent`).
    /// - Throws: ``QSMCryptoError/aesCounterReused(counter:expected:)`` for a counter below the next one.
    public mutating func recordCounter(_ counter: UInt64) throws(QSMCryptoError) {
        guard counter >= nextCounter, counter < .max else {
            throw .aesCounterReused(counter: counter, expected: nextCounter)
        }
        nextCounter = counter + 1
    }
}

/// One nonce of one aes block: non-copyable, consumed by ``AESCipher/seal(_:context:key:nonce:)``.
public struct AESNonce: ~Copyable, Sendable {
    /// The block it belongs to.
    public let ranges: [PoolRange]
    /// The counter: write it to the event's `block_counter`.
    public let counter: UInt64
}
