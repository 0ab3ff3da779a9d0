import CCarryless
@testable import QKD
import QSMTesting
import Testing

@Suite("Carry-less products and large Toeplitz hashes")
struct CarrylessProductTests {
    /// The product over GF(2), bit by bit: coefficient t is the XOR of a_i b_j over i + j = t.
    static func schoolbook(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var product = [UInt64](repeating: 0, count: a.count + b.count)
        for i in 0..<(64 * a.count) where a[i >> 6] >> UInt64(i & 63) & 1 == 1 {
            // b shifted left by i bits, XORed in.
            let (words, bits) = (i >> 6, UInt64(i & 63))
            for j in b.indices {
                product[words + j] ^= b[j] << bits
                if bits > 0 { product[words + j + 1] ^= b[j] >> (64 - bits) }
            }
        }
        return product
    }

    static func multiply(_ a: [UInt64], _ b: [UInt64], portable: Bool) -> [UInt64] {
        var product = [UInt64](repeating: 0, count: 2 * a.count)
        var scratch = [UInt64](repeating: 0, count: qsm_carryless_scratch_words(a.count))
        if portable {
            qsm_carryless_multiply_portable(a, b, a.count, &product, &scratch)
        } else {
            qsm_carryless_multiply(a, b, a.count, &product, &scratch)
        }
        return product
    }

    /// Both paths (PCLMULQDQ where the CPU has it, and the portable one) equal the bit-by-bit product
    /// at the schoolbook sizes, at the Karatsuba threshold and across several levels of odd splits.
    @Test(arguments: [1, 2, 31, 32, 33, 63, 64, 65, 100, 313])
    func equalsTheBitByBitProduct(words: Int) {
        var generator = SeededGenerator(seed: UInt64(900 + words))
        let a = (0..<words).map { _ in generator.next() }
        let b = (0..<words).map { _ in generator.next() }
        let expected = Self.schoolbook(a, b)
        #expect(Self.multiply(a, b, portable: false) == expected)
        #expect(Self.multiply(a, b, portable: true) == expected)
    }

    /// A 60,000-bit key into 25,000 bits (several Karatsuba levels): every column is the seed window
    /// the matrix definition names, and the hash is linear.
    @Test func largeHashHasTheMatrixColumnsAndIsLinear() throws {
        let (n, l) = (60_000, 25_000)
        var generator = SeededGenerator(seed: 910)
        let hash = try ToeplitzHash(inputBits: n, outputBits: l, using: &generator)
        for j in [0, 1, 63, 64, 4_097, 29_999, 59_998, 59_999] {
            var unit = BitString(count: n)
            unit[j] = true
            let column = try hash.hash(unit)
            #expect((0..<l).allSatisfy { column[$0] == hash.seed[$0 - j + n - 1] }, "column \(j)")
        }
        let x = BitString(words: (0..<BitString.wordCount(n)).map { _ in generator.next() }, count: n)
        let y = BitString(words: (0..<BitString.wordCount(n)).map { _ in generator.next() }, count: n)
        let sum = BitString(words: zip(x.words, y.words).map { $0 ^ $1 }, count: n)
        let (hx, hy, hsum) = (try hash.hash(x), try hash.hash(y), try hash.hash(sum))
        #expect(hsum.words == zip(hx.words, hy.words).map { $0 ^ $1 })
    }
}
