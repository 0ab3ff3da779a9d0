/// Privacy amplification by Toeplitz hashing: an l x n binary Toeplitz matrix T, T[i][j] = s[i - j + n - 1]
/// for a uniformly random seed s of n + l - 1 bits, maps an n-bit key x to the l-bit key T x over GF(2).
/// Random Toeplitz matrices form a 2-universal family, so the leftover hash lemma applies.
///
/// The product is computed as y = XOR of the windows s[o ..< o + l] over the positions o = n - 1 - j
/// where x_j = 1, a word at a time: the seed is pre-shifted by each of the 64 bit offsets, the offsets
/// are taken eight at a time (a byte of the reversed key), and each of the 255 non-zero combinations
/// of eight shifted seeds is built once per byte position (Gray-code order, one row XOR each), so the
/// inner loop is a plain XOR of aligned words into the output: about n/8 · l/64 word operations
/// instead of n · l bit products.
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
        guard let product = try hash(key, until: { false }) else {
            preconditionFailure("a product that is never cancelled finishes")
        }
        return product
    }

    /// T x, asking `isCancelled` now and then (the product of a multi-megabit key takes seconds); nil
    /// when it said so.
    func hash(_ key: BitString, until isCancelled: () -> Bool) throws(QKDError) -> BitString? {
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
        var shifted = [UInt64](repeating: 0, count: Self.width * rowWords)
        var combination = [UInt64](repeating: 0, count: rowWords)
        var finished = false
        seedWords.withUnsafeBufferPointer { seedWords in
            reversed.withUnsafeBufferPointer { z in
                shifted.withUnsafeMutableBufferPointer { shifted in
                    combination.withUnsafeMutableBufferPointer { combination in
                        output.withUnsafeMutableBufferPointer { output in
                            finished = Self.accumulate(
                                seed: seedWords.baseAddress!, reversedKey: z.baseAddress!, keyWords: keyWords,
                                outWords: outWords, shifted: shifted.baseAddress!,
                                combination: combination.baseAddress!, output: output.baseAddress!,
                                isCancelled: isCancelled)
                        }
                    }
                }
            }
        }
        return finished ? BitString(words: output, count: outputBits) : nil
    }

    /// The word-level product; see the type's documentation. False when `isCancelled` stopped it.
    private static func accumulate(
        seed: UnsafePointer<UInt64>, reversedKey z: UnsafePointer<UInt64>, keyWords: Int, outWords: Int,
        shifted: UnsafeMutablePointer<UInt64>, combination: UnsafeMutablePointer<UInt64>,
        output: UnsafeMutablePointer<UInt64>, isCancelled: () -> Bool
    ) -> Bool {
        let rowWords = keyWords + outWords
        // Key positions q sorted by the value of their byte in the current group (counting sort).
        let order = UnsafeMutablePointer<Int>.allocate(capacity: keyWords)
        defer { order.deallocate() }
        var starts = [Int](repeating: 0, count: 257)
        for group in 0..<groups {
            // Row i: the seed shifted down by width * group + i bits.
            for lane in 0..<width {
                let shift = UInt64(width * group + lane)
                let row = shifted + lane * rowWords
                if shift == 0 {
                    row.update(from: seed, count: rowWords)
                } else {
                    var word = 0
                    while word < rowWords {
                        row[word] = seed[word] >> shift | seed[word + 1] << (64 - shift)
                        word += 1
                    }
                }
            }
            let byteShift = UInt64(width * group)
            for index in 0..<257 { starts[index] = 0 }
            for q in 0..<keyWords { starts[Int(z[q] >> byteShift & 255) + 1] += 1 }
            for value in 0..<256 { starts[value + 1] += starts[value] }
            var next = starts
            for q in 0..<keyWords {
                let value = Int(z[q] >> byteShift & 255)
                order[next[value]] = q
                next[value] += 1
            }
            combination.update(repeating: 0, count: rowWords)
            // Gray-code order: step s changes bit tz(s), so each step XORs one shifted row in.
            for step in 1..<256 {
                // Every 32 steps: a cancelled product stops within a 64th of its run; the check costs nothing.
                if step & 31 == 0, isCancelled() { return false }
                xor(shifted + step.trailingZeroBitCount * rowWords, into: combination, count: rowWords)
                let value = step ^ (step >> 1)
                var slot = starts[value]
                let last = starts[value + 1]
                while slot < last {
                    xor(combination + order[slot], into: output, count: outWords)
                    slot += 1
                }
            }
        }
        return true
    }

    /// target[i] ^= source[i] for i < count (a plain loop the optimiser vectorises).
    @inline(__always)
    private static func xor(_ source: UnsafePointer<UInt64>, into target: UnsafeMutablePointer<UInt64>, count: Int) {
        var word = 0
        while word < count {
            target[word] ^= source[word]
            word += 1
        }
    }

    /// Key bits taken together: each of the 255 non-zero combinations of `width` shifted seeds is built once.
    private static let width = 8
    private static let groups = 64 / width
}
