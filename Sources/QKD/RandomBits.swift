internal import Foundation

/// Bulk randomness for the simulation, drawn from whichever generator the caller injected.
enum RandomBits {
    /// `count` uniformly random words.
    static func words(_ count: Int, using generator: inout some RandomNumberGenerator) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: count)
        for index in 0..<count { words[index] = generator.next() }
        return words
    }

    /// A word whose bits are independently one with probability `ones` / 64 (0 ≤ `ones` ≤ 64), from one
    /// random word per binary digit of the probability above its lowest set digit (at most six). Reads the
    /// digits from the least significant up: a lane is one if its random bit is below the digit, and
    /// otherwise ties and defers to the less significant digits.
    @inline(__always)
    static func biased(ones: Int, using generator: inout some RandomNumberGenerator) -> UInt64 {
        if ones >= 64 { return ~0 }
        if ones <= 0 { return 0 }
        var word: UInt64 = 0
        var digits = ones >> ones.trailingZeroBitCount
        var remaining = 6 - ones.trailingZeroBitCount
        while remaining > 0 {
            let random = generator.next()
            word = digits & 1 == 1 ? ~random | word : random & word
            digits >>= 1
            remaining -= 1
        }
        return word
    }

    /// A uniform double in the open interval (0, 1).
    @inline(__always)
    static func unit(using generator: inout some RandomNumberGenerator) -> Double {
        (Double(generator.next() >> 11) + 0.5) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` (`bound` < 2^32) by a 32x32 multiply-shift; the bias, at most
    /// bound / 2^32, matters nowhere it is used (public shuffles and sample positions of a simulation).
    @inline(__always)
    static func below(_ bound: Int, _ word: UInt64) -> Int {
        Int(((word & 0xFFFF_FFFF) &* UInt64(bound)) >> 32)
    }

    /// `count` independent Bernoulli(`probability`) bits as packed words. Draws one number per one bit
    /// (geometric gaps between ones), or per zero bit when `probability` > 1/2, so sparse masks are cheap.
    static func bernoulli(
        _ count: Int, probability: Double, using generator: inout some RandomNumberGenerator
    ) -> [UInt64] {
        let wordCount = BitString.wordCount(count)
        if probability <= 0 { return [UInt64](repeating: 0, count: wordCount) }
        if probability >= 1 { return BitString(words: [UInt64](repeating: ~0, count: wordCount), count: count).words }
        if probability > 0.5 {
            var mask = bernoulli(count, probability: 1 - probability, using: &generator)
            for index in mask.indices { mask[index] = ~mask[index] }
            return BitString(words: mask, count: count).words
        }
        var mask = [UInt64](repeating: 0, count: wordCount)
        let logFailure = log1p(-probability)
        var position = -1
        mask.withUnsafeMutableBufferPointer { words in
            while true {
                // The number of zeros before the next one is geometric: floor(ln U / ln(1 - p)).
                let gap = (log(unit(using: &generator)) / logFailure).rounded(.down)
                if gap >= Double(count) { break }
                position += Int(gap) + 1
                if position >= count { break }
                words[position >> 6] |= 1 << UInt64(position & 63)
            }
        }
        return mask
    }

    /// A uniformly random permutation of `0..<count` (Fisher-Yates), as 32-bit indices.
    static func permutation(_ count: Int, using generator: inout some RandomNumberGenerator) -> [Int32] {
        let random = words((count + 1) / 2, using: &generator)
        return [Int32](unsafeUninitializedCapacity: count) { slots, initialized in
            random.withUnsafeBufferPointer { random in
                var index = 0
                while index < count {
                    slots[index] = Int32(truncatingIfNeeded: index)
                    index += 1
                }
                // Each random word gives two 32-bit draws.
                index = count - 1
                while index > 0 {
                    let word = random[index >> 1] >> UInt64((index & 1) * 32)
                    let other = below(index + 1, word)
                    let swap = slots[index]
                    slots[index] = slots[other]
                    slots[other] = swap
                    index -= 1
                }
            }
            initialized = count
        }
    }
}
