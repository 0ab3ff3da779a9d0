@testable import QKD
import QSMTesting

/// Test keys: Alice's random bits and Bob's copy with exactly `errors` bits flipped at random positions.
func noisyPair(bits: Int, errors: Int, using generator: inout SeededGenerator) -> (alice: BitString, bob: BitString) {
    let words = (0..<BitString.wordCount(bits)).map { _ in generator.next() }
    let alice = BitString(words: words, count: bits)
    var bob = alice
    var flipped = 0
    while flipped < errors {
        let position = Int.random(in: 0..<bits, using: &generator)
        if alice[position] == bob[position] {
            bob.flip(position)
            flipped += 1
        }
    }
    return (alice, bob)
}

/// The textbook product of a Toeplitz matrix and a vector, bit by bit: y_i = XOR_j s[i - j + n - 1] x_j.
func naiveToeplitz(seed: BitString, key: BitString, outputBits: Int) -> BitString {
    let n = key.count
    var output = BitString(count: outputBits)
    for i in 0..<outputBits {
        var bit = false
        for j in 0..<n where key[j] && seed[i - j + n - 1] { bit.toggle() }
        output[i] = bit
    }
    return output
}
