/// A pseudo-random permutation of bit positions applied a word at a time, for Cascade's passes after
/// the first. Positions are `64 * word + lane` over a length that is a multiple of 4096. A bit moves by
/// (1) rotating its word by a random amount, (2) a random permutation of words, (3) transposing every
/// 64 x 64 tile of words (word r, lane c goes to word c, lane r of the tile), (4) another random
/// permutation of words. Bits that shared a word land in 64 different words scattered at random, and
/// bits from different words share a word with probability about 1/words, as under a uniform shuffle,
/// at a cost of a few operations a word instead of several a bit.
struct WordShuffle {
    let wordCount: Int
    private let rotation: [UInt8]
    private let first: [Int32]
    private let firstInverse: [Int32]
    private let second: [Int32]
    private let secondInverse: [Int32]

    /// A random shuffle of `wordCount` words (a positive multiple of 64).
    init(wordCount: Int, using generator: inout some RandomNumberGenerator) {
        precondition(wordCount > 0 && wordCount % 64 == 0, "word count must be a positive multiple of 64")
        self.wordCount = wordCount
        // Eight 6-bit rotations from each random word.
        let random = RandomBits.words((wordCount + 7) / 8, using: &generator)
        rotation = [UInt8](unsafeUninitializedCapacity: wordCount) { rotation, initialized in
            random.withUnsafeBufferPointer { random in
                var index = 0
                while index < wordCount {
                    rotation[index] = UInt8(truncatingIfNeeded: random[index >> 3] >> UInt64((index & 7) * 8) & 63)
                    index += 1
                }
            }
            initialized = wordCount
        }
        first = RandomBits.permutation(wordCount, using: &generator)
        second = RandomBits.permutation(wordCount, using: &generator)
        firstInverse = Self.inverse(first)
        secondInverse = Self.inverse(second)
    }

    private static func inverse(_ permutation: [Int32]) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: permutation.count) { inverse, initialized in
            permutation.withUnsafeBufferPointer { permutation in
                var index = 0
                while index < permutation.count {
                    inverse[Int(permutation[index])] = Int32(truncatingIfNeeded: index)
                    index += 1
                }
            }
            initialized = permutation.count
        }
    }

    /// Where the bit at position `x` goes.
    @inline(__always)
    func forward(_ x: Int) -> Int {
        let word = x >> 6
        let lane = (x + Int(rotation[word])) & 63
        let moved = Int(first[word])
        let tileWord = (moved & ~63) | lane
        return Int(second[tileWord]) << 6 | (moved & 63)
    }

    /// Which position lands at `t`.
    @inline(__always)
    func backward(_ t: Int) -> Int {
        let tileWord = Int(secondInverse[t >> 6])
        let moved = (tileWord & ~63) | (t & 63)
        let word = Int(firstInverse[moved])
        let lane = (tileWord - Int(rotation[word])) & 63
        return word << 6 | lane
    }

    /// Writes the shuffle of `source` to `destination`, using `scratch`; all hold `wordCount` words.
    func apply(
        _ source: UnsafePointer<UInt64>, to destination: UnsafeMutablePointer<UInt64>,
        scratch: UnsafeMutablePointer<UInt64>
    ) {
        rotation.withUnsafeBufferPointer { rotation in
            first.withUnsafeBufferPointer { first in
                for word in 0..<wordCount {
                    let amount = UInt64(rotation[word])
                    let value = source[word]
                    scratch[Int(first[word])] = value &<< amount | value &>> ((64 &- amount) & 63)
                }
            }
        }
        var tile = 0
        while tile < wordCount {
            Self.transpose(scratch + tile)
            tile += 64
        }
        second.withUnsafeBufferPointer { second in
            for word in 0..<wordCount { destination[Int(second[word])] = scratch[word] }
        }
    }

    /// Transposes the 64 x 64 bit matrix at `rows` in place: bit c of word r swaps with bit r of word c.
    static func transpose(_ rows: UnsafeMutablePointer<UInt64>) {
        var width = 32
        var mask: UInt64 = 0x0000_0000_FFFF_FFFF
        while width != 0 {
            var row = 0
            while row < 64 {
                // Swap the high `width` lanes of row `row` with the low `width` lanes of row `row + width`.
                let shift = UInt64(width)
                let swap = (rows[row] >> shift ^ rows[row + width]) & mask
                rows[row] ^= swap << shift
                rows[row + width] ^= swap
                row = (row + width + 1) & ~width
            }
            width >>= 1
            mask ^= mask << UInt64(width)
        }
    }
}
