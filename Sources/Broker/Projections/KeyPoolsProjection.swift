import Foundation
public import QSMCrypto
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// Key pools: for each pair of users, the BB84 keys made for them (wrapped under the master key), every
/// range consumed, and the current aes block. Offsets and lengths are in bits of the pool, which is the
/// pair's keys laid end to end (QSMCrypto's `KeyPool`).
public struct KeyPoolsProjection: Projection {
    public static let name = "keyPools"

    /// A pair's pool and aes block.
    public struct PairPool: Sendable, Equatable {
        public var pool: KeyPool
        public var aesBlock: AESBlock?
        /// Events whose ranges the pool refused (a range used twice or outside the pool). The deciders
        /// make this impossible; a replay of a forged log shows it here.
        public var refusedRanges: UInt64 = 0
    }

    public internal(set) var pools: [String: PairPool] = [:]
    /// Bits consumed by the last event folded (for the dashboard's key bits used). An output of the
    /// fold, not state: it is not encoded, so it takes no part in snapshots or digests (it would make two
    /// states that differ only by a trailing checkpoint look different).
    public private(set) var lastConsumedBits: UInt64 = 0

    private enum StateKeys: String, CodingKey { case pools }

    public init() {}

    public init(from decoder: any Swift.Decoder) throws {
        pools = try decoder.container(keyedBy: StateKeys.self).decode([String: PairPool].self, forKey: .pools)
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var container = encoder.container(keyedBy: StateKeys.self)
        try container.encode(pools, forKey: .pools)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.pools == rhs.pools }

    /// The pool of `first` and `second`, in either order.
    public func pool(_ first: String, _ second: String) -> PairPool? { pools[Self.pairKey(first, second)] }

    /// The dictionary key of a pair: both names, sorted, separated by a newline (not allowed in names).
    public static func pairKey(_ first: String, _ second: String) -> String {
        first < second ? first + "\n" + second : second + "\n" + first
    }

    public mutating func evolve(_ event: QSMEvent) {
        lastConsumedBits = 0
        switch event.body {
        case .keyExchangeCompleted(let exchange):
            let key = Self.pairKey(exchange.initiator, exchange.peer)
            let segment = KeyPool.Segment(
                keyID: exchange.keyID, start: exchange.poolOffset, bitCount: exchange.figures.finalBits,
                wrappedKey: WrappedSecret(exchange.key))
            if pools[key] == nil { pools[key] = PairPool(pool: KeyPool(pair: UserPair(exchange.initiator, exchange.peer))) }
            // Mutated in place (through the dictionary's accessor), never copied out and written back.
            do { try pools[key]!.pool.append(segment) } catch { pools[key]!.refusedRanges += 1 }
        case .messageSent(let sent) where sent.mode == .otp || sent.mode == .aes:
            let key = Self.pairKey(sent.sender, sent.recipient)
            guard pools[key] != nil else { return }
            let ranges = sent.poolRanges.map { PoolRange(start: $0.start, length: $0.length) }
            if sent.mode == .otp || pools[key]!.aesBlock?.ranges != ranges {
                do {
                    try pools[key]!.pool.recordConsumed(ranges)
                    lastConsumedBits = ranges.reduce(0) { $0 + $1.length }
                } catch {
                    pools[key]!.refusedRanges += 1
                }
                if sent.mode == .aes { pools[key]!.aesBlock = AESBlock(ranges: ranges, startedAtMicroseconds: event.recordedAtUs) }
            }
            if sent.mode == .aes {
                do { try pools[key]!.aesBlock?.recordCounter(sent.blockCounter) } catch { pools[key]!.refusedRanges += 1 }
            }
        case .keyMaterialRetired:
            // Every pair's unused bits and aes block in force: after a cut-back log the broker cannot
            // know which of them were handed out in events it lost (docs/security.md, "Key reuse").
            for index in pools.indices {
                pools.values[index].pool.retireUnused()
                pools.values[index].aesBlock = nil
            }
        default:
            break
        }
    }

    /// Pairs with unused bits or an aes block in force, and their unused bits: what a retirement retires.
    public var keyMaterialInForce: (pairs: Int, bits: UInt64) {
        var pairs = 0
        var bits: UInt64 = 0
        for pair in pools.values {
            let unused = pair.pool.availableBits
            if unused > 0 || pair.aesBlock != nil {
                pairs += 1
                bits += unused
            }
        }
        return (pairs, bits)
    }
}

extension WrappedSecret {
    /// The event form's fields.
    init(_ event: QSMWrappedSecret) {
        self.init(keyID: event.keyID, algorithm: event.algorithm, nonce: event.nonce, sealed: event.sealed, kdf: event.kdf)
    }

    /// As the event message.
    var event: QSMWrappedSecret {
        QSMWrappedSecret.with {
            $0.keyID = keyID
            $0.algorithm = algorithm
            $0.nonce = nonce
            $0.sealed = sealed
            $0.kdf = kdf
        }
    }
}

// MARK: - Canonical encoding

extension KeyPoolsProjection.PairPool: Codable {
    private enum CodingKeys: String, CodingKey {
        case first, second, segments, consumed, frontier, aesRanges, aesStartedAt, aesNextCounter, refusedRanges
    }

    private struct CodableSegment: Codable {
        var keyID: String
        var start: UInt64
        var bitCount: UInt64
        var wrapKeyID: String
        var algorithm: String
        var nonce: Data
        var sealed: Data
        var kdf: String
    }

    private struct CodableRange: Codable {
        var start: UInt64
        var length: UInt64
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pool.pair.first, forKey: .first)
        try c.encode(pool.pair.second, forKey: .second)
        try c.encode(pool.segments.map {
            CodableSegment(
                keyID: $0.keyID, start: $0.start, bitCount: $0.bitCount, wrapKeyID: $0.wrappedKey.keyID,
                algorithm: $0.wrappedKey.algorithm, nonce: $0.wrappedKey.nonce, sealed: $0.wrappedKey.sealed,
                kdf: $0.wrappedKey.kdf)
        }, forKey: .segments)
        try c.encode(pool.consumed.map { CodableRange(start: $0.start, length: $0.length) }, forKey: .consumed)
        // Not implied by the consumed ranges once bits were retired.
        try c.encode(pool.frontier, forKey: .frontier)
        if let block = aesBlock {
            try c.encode(block.ranges.map { CodableRange(start: $0.start, length: $0.length) }, forKey: .aesRanges)
            try c.encode(block.startedAtMicroseconds, forKey: .aesStartedAt)
            try c.encode(block.nextCounter, forKey: .aesNextCounter)
        }
        try c.encode(refusedRanges, forKey: .refusedRanges)
    }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let segments = try c.decode([CodableSegment].self, forKey: .segments).map { s in
            KeyPool.Segment(
                keyID: s.keyID, start: s.start, bitCount: s.bitCount,
                wrappedKey: WrappedSecret(keyID: s.wrapKeyID, algorithm: s.algorithm, nonce: s.nonce, sealed: s.sealed, kdf: s.kdf))
        }
        var aes: (ranges: [PoolRange], startedAt: Int64, nextCounter: UInt64)?
        if let ranges = try c.decodeIfPresent([CodableRange].self, forKey: .aesRanges) {
            aes = (ranges.map { PoolRange(start: $0.start, length: $0.length) }, try c.decode(Int64.self, forKey: .aesStartedAt),
                   try c.decode(UInt64.self, forKey: .aesNextCounter))
        }
        try self.init(
            pair: UserPair(try c.decode(String.self, forKey: .first), try c.decode(String.self, forKey: .second)),
            segments: segments,
            consumed: try c.decode([CodableRange].self, forKey: .consumed).map { PoolRange(start: $0.start, length: $0.length) },
            frontier: try c.decodeIfPresent(UInt64.self, forKey: .frontier), aes: aes,
            refusedRanges: try c.decode(UInt64.self, forKey: .refusedRanges))
    }
}

extension KeyPoolsProjection.PairPool {
    /// A pool from its stored parts: segments in order, consumed ranges merged, the frontier below which
    /// bits were retired, and the current aes block's ranges, start time and next counter.
    init(
        pair: UserPair, segments: [KeyPool.Segment], consumed: [PoolRange], frontier: UInt64?,
        aes: (ranges: [PoolRange], startedAt: Int64, nextCounter: UInt64)?, refusedRanges: UInt64
    ) throws {
        var pool = KeyPool(pair: pair)
        for segment in segments { try pool.append(segment) }
        // Consumed ranges are stored merged; a merged range may run across adjacent segments, and the
        // pool records ranges within one segment, so split them at segment boundaries.
        var pieces: [PoolRange] = []
        for range in consumed {
            for segment in pool.segments {
                let start = max(range.start, segment.start)
                let end = min(range.start + range.length, segment.usableEnd)
                if start < end { pieces.append(PoolRange(start: start, length: end - start)) }
            }
        }
        try pool.recordConsumed(pieces)
        if let frontier { pool.retire(below: frontier) }
        self.pool = pool
        if let aes {
            var block = AESBlock(ranges: aes.ranges, startedAtMicroseconds: aes.startedAt)
            if aes.nextCounter > 0 { try block.recordCounter(aes.nextCounter - 1) }
            aesBlock = block
        }
        self.refusedRanges = refusedRanges
    }
}
