internal import CCarryless

/// Privacy amplification by Toeplitz hashing: an l x n binary Toeplitz matrix T, T[i][j] = s[i - j + n - 1]
/// for a uniformly random seed s of n + l - 1 bits, maps an n-bit key x to the l-bit key T x over GF(2).
/// Random Toeplitz matrices form a 2-universal family, so the leftover hash lemma applies.
///
/// The product is a window of a polynomial product: y_i = XOR_j s[i - j + n - 1] x_j is coefficient
/// i + n - 1 of s(X) · x(X) over GF(2), which CCarryless computes by Karatsuba on 64-bit words with the
/// CPU's carry-less multiply: O(n^1.585) word products instead of the n · l bit products of the matrix,
/// so a 10^6-bit key hashes in milliseconds rather than seconds.
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

    /// T x, asking `isCancelled` before and after the product (milliseconds at 10^6 bits, about a
    /// second at the largest keys); nil when it said so.
    func hash(_ key: BitString, until isCancelled: () -> Bool) throws(QKDError) -> BitString? {
        guard key.count == inputBits else {
            throw QKDError(parameter: "key", reason: "has \(key.count) bits; this hash takes \(inputBits)")
        }
        if isCancelled() { return nil }
        // y_i = XOR_j s[i - j + n - 1] x_j = coefficient i + n - 1 of the product s(X) x(X) over GF(2).
        let words = max(seed.words.count, key.words.count)
        var left = seed.words
        left.append(contentsOf: repeatElement(0, count: words - left.count))
        var right = key.words
        right.append(contentsOf: repeatElement(0, count: words - right.count))
        var product = [UInt64](repeating: 0, count: 2 * words)
        var scratch = [UInt64](repeating: 0, count: qsm_carryless_scratch_words(words))
        left.withUnsafeBufferPointer { left in
            right.withUnsafeBufferPointer { right in
                product.withUnsafeMutableBufferPointer { product in
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        qsm_carryless_multiply(
                            left.baseAddress!, right.baseAddress!, words, product.baseAddress!, scratch.baseAddress!)
                    }
                }
            }
        }
        if isCancelled() { return nil }
        let first = inputBits - 1
        let (word, shift) = (first >> 6, UInt64(first & 63))
        let output = (0..<BitString.wordCount(outputBits)).map { index -> UInt64 in
            let low = product[word + index] >> shift
            let high = shift == 0 || word + index + 1 >= product.count ? 0 : product[word + index + 1] << (64 - shift)
            return low | high
        }
        return BitString(words: output, count: outputBits)
    }
}
