@testable import QKD
import QSMTesting
import Testing
import Foundation

@Suite("Toeplitz hashing, bounds and bit strings")
struct HashingAndBoundsTests {
    @Test func toeplitzHashEqualsTheNaiveMatrixProduct() throws {
        var generator = SeededGenerator(seed: 20)
        let sizes = [(1, 1), (2, 1), (2, 2), (63, 5), (64, 64), (65, 3), (127, 127), (130, 70), (500, 200), (777, 1),
                     (1000, 999), (1500, 700)]
        for (n, l) in sizes {
            let key = BitString(words: (0..<BitString.wordCount(n)).map { _ in generator.next() }, count: n)
            let hash = try ToeplitzHash(inputBits: n, outputBits: l, using: &generator)
            #expect(try hash.hash(key) == naiveToeplitz(seed: hash.seed, key: key, outputBits: l), "n \(n), l \(l)")
        }
    }

    @Test func toeplitzHashIsLinearAndSeedIsTheDiagonals() throws {
        // With one key bit set, T x is one column of T: the seed read from n - 1 - j upwards.
        let n = 300
        let l = 100
        var generator = SeededGenerator(seed: 21)
        let hash = try ToeplitzHash(inputBits: n, outputBits: l, using: &generator)
        for j in [0, 1, 63, 64, 150, 299] {
            var unit = BitString(count: n)
            unit[j] = true
            let column = try hash.hash(unit)
            #expect((0..<l).allSatisfy { column[$0] == hash.seed[$0 - j + n - 1] })
        }
    }

    @Test func marginIsTomamichelsMuAtTheDefaultFailureProbability() {
        let parameters = BB84Parameters(qubits: 1_000)
        let epsilon = parameters.epsilonSecurity
        #expect(parameters.effectiveBoundFailureProbability == epsilon * epsilon / 4)
        for (n, k) in [(100_000, 25_000), (10_000, 1_000), (1, 1)] {
            let (nd, kd) = (Double(n), Double(k))
            let mu = ((nd + kd) / (nd * kd) * (kd + 1) / kd * log(2 / epsilon)).squareRoot()
            let margin = FiniteKey.margin(keyBits: n, sampleBits: k, failureProbability: epsilon * epsilon / 4)
            #expect(abs(margin - mu) <= 1e-12 * mu)
        }
        #expect(FiniteKey.binaryEntropy(0.5) == 1 && FiniteKey.binaryEntropy(0) == 0)
        #expect(abs(FiniteKey.binaryEntropy(0.11) - 0.4999) < 1e-3)
    }

    @Test func finalLengthIsTheFloorOfTheSecureLength() {
        let length = FiniteKey.secureLength(
            keyBits: 100_000, qberBound: 0.05, leakedBits: 30_000, epsilonSecurity: 1e-10, epsilonCorrectness: 1e-15)
        let expected = 100_000 * (1 - FiniteKey.binaryEntropy(0.05)) - 30_000 - log2(2 / (1e-20 * 1e-15))
        #expect(abs(length - expected) < 1e-6)
        #expect(FiniteKey.finalLength(
            keyBits: 100_000, qberBound: 0.05, leakedBits: 30_000, epsilonSecurity: 1e-10, epsilonCorrectness: 1e-15)
            == Int(expected.rounded(.down)))
        #expect(FiniteKey.finalLength(
            keyBits: 1_000, qberBound: 0.2, leakedBits: 900, epsilonSecurity: 1e-10, epsilonCorrectness: 1e-15) == 0)
    }

    @Test func wordShuffleIsABijectionMatchingItsWordLevelApplication() {
        var generator = SeededGenerator(seed: 22)
        let words = 128
        let shuffle = WordShuffle(wordCount: words, using: &generator)
        var seen = Set<Int>()
        for x in 0..<(words * 64) {
            let t = shuffle.forward(x)
            seen.insert(t)
            #expect(shuffle.backward(t) == x)
        }
        #expect(seen.count == words * 64)
        let source = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        let target = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        defer { [source, target, scratch].forEach { $0.deallocate() } }
        for x in stride(from: 0, to: words * 64, by: 97) {
            source.initialize(repeating: 0, count: words)
            source[x >> 6] = 1 << UInt64(x & 63)
            shuffle.apply(source, to: target, scratch: scratch)
            let t = shuffle.forward(x)
            #expect((0..<words).allSatisfy { target[$0] == ($0 == t >> 6 ? 1 << UInt64(t & 63) : 0) })
        }
    }

    @Test func bitStringParityBytesAndTail() {
        var generator = SeededGenerator(seed: 23)
        let bits = (0..<300).map { _ in Bool.random(using: &generator) }
        let string = BitString(bits)
        #expect(string.bools == bits)
        for (start, end) in [(0, 0), (0, 1), (5, 64), (63, 65), (0, 300), (64, 128), (100, 299)] {
            #expect(string.parity(of: start..<end) == bits[start..<end].reduce(false) { $0 != $1 })
        }
        let bytes = string.bytes
        #expect(bytes.count == 38)
        #expect((0..<300).allSatisfy { bytes[$0 / 8] >> UInt8($0 % 8) & 1 == (bits[$0] ? 1 : 0) })
        #expect(BitString(words: [~0, ~0], count: 70).words == [~0, 63])
        #expect(string.prefix(70) == BitString(Array(bits.prefix(70))))
    }
}
