/// A string of bits packed 64 to a word, least significant bit first: bit `i` is bit `i % 64` of word
/// `i / 64`. Bits past `count` in the last word are always zero, so equality and popcounts are exact.
public struct BitString: Sendable, Hashable {
    /// The packed words; `(count + 63) / 64` of them.
    public internal(set) var words: [UInt64]
    /// The number of bits.
    public let count: Int

    /// A string of `count` zero bits.
    public init(count: Int) {
        precondition(count >= 0, "negative bit count")
        self.count = count
        words = [UInt64](repeating: 0, count: Self.wordCount(count))
    }

    /// Bits taken from packed words; bits past `count` are cleared and missing words read as zero.
    public init(words: [UInt64], count: Int) {
        precondition(count >= 0, "negative bit count")
        self.count = count
        var words = words
        let needed = Self.wordCount(count)
        if words.count > needed { words.removeLast(words.count - needed) }
        if words.count < needed { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
        if count & 63 != 0 { words[needed - 1] &= (1 << UInt64(count & 63)) &- 1 }
        self.words = words
    }

    /// Bits from booleans, for tests and small inputs.
    public init(_ bits: [Bool]) {
        self.init(count: bits.count)
        for (index, bit) in bits.enumerated() where bit { words[index >> 6] |= 1 << UInt64(index & 63) }
    }

    /// The number of words needed for `count` bits.
    public static func wordCount(_ count: Int) -> Int { (count + 63) >> 6 }

    /// The bit at `index`.
    public subscript(index: Int) -> Bool {
        get { words[index >> 6] >> UInt64(index & 63) & 1 == 1 }
        set {
            let mask: UInt64 = 1 << UInt64(index & 63)
            if newValue { words[index >> 6] |= mask } else { words[index >> 6] &= ~mask }
        }
    }

    /// Flips the bit at `index`.
    public mutating func flip(_ index: Int) { words[index >> 6] ^= 1 << UInt64(index & 63) }

    /// The number of one bits.
    public var popCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The number of positions where `self` and `other` differ; both must have the same count.
    public func hammingDistance(to other: BitString) -> Int {
        precondition(count == other.count, "bit strings of different lengths")
        var distance = 0
        for index in words.indices { distance += (words[index] ^ other.words[index]).nonzeroBitCount }
        return distance
    }

    /// The parity (XOR) of the bits in `range`.
    public func parity(of range: Range<Int>) -> Bool {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range outside the bit string")
        return words.withUnsafeBufferPointer { BitOps.parity($0.baseAddress!, range.lowerBound, range.upperBound) }
    }

    /// The first `length` bits.
    public func prefix(_ length: Int) -> BitString {
        precondition(length >= 0 && length <= count, "prefix longer than the bit string")
        return BitString(words: Array(words.prefix(Self.wordCount(length))), count: length)
    }

    /// The bits as bytes, bit `i` in bit `i % 8` of byte `i / 8`; the last byte is zero-padded.
    public var bytes: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: (count + 7) >> 3)
        for index in bytes.indices {
            bytes[index] = UInt8(truncatingIfNeeded: words[index >> 3] >> UInt64((index & 7) * 8))
        }
        return bytes
    }

    /// The bits as booleans, for tests and small inputs.
    public var bools: [Bool] { (0..<count).map { self[$0] } }
}

/// Word-level helpers on raw pointers, for the hot loops.
enum BitOps {
    /// The parity of bits `[start, end)` of the packed words at `words`.
    @inline(__always)
    static func parity(_ words: UnsafePointer<UInt64>, _ start: Int, _ end: Int) -> Bool {
        if start >= end { return false }
        let first = start >> 6
        let last = (end - 1) >> 6
        let low: UInt64 = ~0 << UInt64(start & 63)
        let high: UInt64 = ~0 >> UInt64(63 - ((end - 1) & 63))
        if first == last { return (words[first] & low & high).nonzeroBitCount & 1 == 1 }
        var x = words[first] & low
        var index = first + 1
        while index < last {
            x ^= words[index]
            index += 1
        }
        x ^= words[last] & high
        return x.nonzeroBitCount & 1 == 1
    }

    /// The bit at `index` of the packed words at `words`.
    @inline(__always)
    static func bit(_ words: UnsafePointer<UInt64>, _ index: Int) -> UInt64 {
        words[index >> 6] >> UInt64(index & 63) & 1
    }
}
