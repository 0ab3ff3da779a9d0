/// Privacy amplification by Toeplitz hashing: an l x n binary Toeplitz matrix T, T[i][j] = s[i - j + n - 1]
/// for a uniformly random seed s of n + l - 1 bits, maps an n-bit key x to the l-bit key T x over GF(2).
/// Random Toeplitz matrices form a 2-universal family, so the leftover hash lemma applies.
///
/// The product is computed as y = XOR of the windows s[o ..< o + l] over the positions o = n - 1 - j
/// where x_j = 1, a word at a time: the seed is pre-shifted by each of the 64 bit offsets, the offsets
/// are taken four at a time (a nibble of the reversed key), and each of the 15 non-zero combinations
/// of four shifted seeds is built once per nibble position, so the inner loop is a plain XOR of
/// aligned words into the output: about n/4 · l/64 word operations instead of n · l bit products.
public struct ToeplitzHash: Sendable {
    /// n, the length of the keys hashed.
    public let inputBits: Int
    /// l, the length of the hashes.
    public let outputBits: Int
    /// The n + l - 1 seed bits; the matrix's first column is bits n - 1 up to n + l - 2, its first row
    /// bits n - 1 down to 0.
    public let seed: BitString

    /// A hash from `inputBits` to `outputBits` with the given seed of `inputBits + outputBits - 1` bits.
    /// - Throws: `QKDError` when a length is not positive, l exceeds n, or the seed has the wrong length.
    public init(inputBits: Int, outputBits: Int, seed: BitString) throws(QKDError) {
        guard inputBits > 0 else { throw QKDError(parameter: "inputBits", reason: "\(inputBits) is not positive") }
        guard outputBits > 0, outputBits <= inputBits else {
            throw QKDError(parameter: "outputBits", reason: "\(outputBits) must lie in 1...\(inputBits) (inputBits)")
        }
        guard seed.count == inputBits + outputBits - 1 else {
            throw QKDError(
                parameter: "seed", reason: "has \(seed.count) bits; a \(outputBits) x \(inputBits) matrix needs "
                    + "\(inputBits + outputBits - 1)")
        }
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.seed = seed
    }

    /// A hash with a seed drawn from `generator`.
    /// - Throws: `QKDError` when a length is not positive or l exceeds n.
    public init(inputBits: Int, outputBits: Int, using generator: inout some RandomNumberGenerator) throws(QKDError) {
        let seedBits = max(0, inputBits + max(outputBits, 0) - 1)
        let seed = BitString(words: RandomBits.words(BitString.wordCount(seedBits), using: &generator), count: seedBits)
        try self.init(inputBits: inputBits, outputBits: outputBits, seed: seed)
    }

    /// T x.
    /// - Throws: `QKDError` when `key` is not `inputBits` long.
    public func hash(_ key: BitString) throws(QKDError) -> BitString {
        guard key.count == inputBits else {
            throw QKDError(parameter: "key", reason: "has \(key.count) bits; this hash takes \(inputBits)")
        }
        let n = inputBits
        let keyWords = BitString.wordCount(n)
        let outWords = BitString.wordCount(outputBits)
        // z = x reversed (z_o = x_{n-1-o}), so that y = XOR over z_o = 1 of the seed window at offset o.
        var reversed = [UInt64](repeating: 0, count: keyWords + 1)
        let pad = keyWords * 64 - n
        for index in 0..<keyWords { reversed[keyWords - 1 - index] = BitOps.reversed(key.words[index]) }
        if pad > 0 {
            for index in 0..<keyWords {
                reversed[index] = reversed[index] >> UInt64(pad) | reversed[index + 1] << UInt64(64 - pad)
            }
        }
        // Seed words padded so every shifted row reads keyWords + outWords words.
        let rowWords = keyWords + outWords
        var seedWords = seed.words
        seedWords.append(contentsOf: repeatElement(0, count: rowWords + 1 - seedWords.count))
        var output = [UInt64](repeating: 0, count: outWords)
        var shifted = [UInt64](repeating: 0, count: 4 * rowWords)
        var combination = [UInt64](repeating: 0, count: rowWords)
        seedWords.withUnsafeBufferPointer { seedWords in
            reversed.withUnsafeBufferPointer { z in
                shifted.withUnsafeMutableBufferPointer { shifted in
                    combination.withUnsafeMutableBufferPointer { combination in
                        output.withUnsafeMutableBufferPointer { output in
                            Self.accumulate(
                                seed: seedWords.baseAddress!, reversedKey: z.baseAddress!, keyWords: keyWords,
                                outWords: outWords, shifted: shifted.baseAddress!,
                                combination: combination.baseAddress!, output: output.baseAddress!)
                        }
                    }
                }
            }
        }
        return BitString(words: output, count: outputBits)
    }

    /// The word-level product; see the type's documentation.
    private static func accumulate(
        seed: UnsafePointer<UInt64>, reversedKey z: UnsafePointer<UInt64>, keyWords: Int, outWords: Int,
        shifted: UnsafeMutablePointer<UInt64>, combination: UnsafeMutablePointer<UInt64>,
        output: UnsafeMutablePointer<UInt64>
    ) {
        let rowWords = keyWords + outWords
        for group in 0..<16 {
            // Rows i = 0..<4: the seed shifted down by 4 * group + i bits.
            for lane in 0..<4 {
                let shift = UInt64(4 * group + lane)
                let row = shifted + lane * rowWords
                for word in 0..<rowWords {
                    row[word] = shift == 0 ? seed[word] : seed[word] >> shift | seed[word + 1] << (64 - shift)
                }
            }
            combination.initialize(repeating: 0, count: rowWords)
            // Gray-code order: each step XORs one shifted row into the combination.
            var previous = 0
            for step in 1..<16 {
                let value = step ^ (step >> 1)
                let changed = (value ^ previous).trailingZeroBitCount
                previous = value
                let row = shifted + changed * rowWords
                for word in 0..<rowWords { combination[word] ^= row[word] }
                let nibbleShift = UInt64(4 * group)
                for q in 0..<keyWords where Int(z[q] >> nibbleShift & 15) == value {
                    let window = combination + q
                    for word in 0..<outWords { output[word] ^= window[word] }
                }
            }
        }
    }
}
