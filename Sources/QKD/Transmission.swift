/// What the quantum stage leaves behind, bit-packed 64 qubits to a word: Alice's bits and bases, Bob's
/// bases and results, and which qubits Bob detected. Basis bit 0 is rectilinear, 1 diagonal.
struct RawTransmission: Sendable {
    var qubits: Int
    var aliceBits: [UInt64]
    var aliceBases: [UInt64]
    var bobBases: [UInt64]
    var bobBits: [UInt64]
    var detected: [UInt64]

    /// The number of qubits Bob detected.
    var detectedCount: Int { detected.reduce(0) { $0 + $1.nonzeroBitCount } }
}

/// The quantum stage of BB84, simulated a word (64 qubits) at a time.
enum Transmission {
    /// Alice prepares `qubits` random bits, each in the key (rectilinear) basis with probability
    /// `basisBias`; an intercept-resend eavesdropper measures the fraction `eavesdropping` of them, in the
    /// key basis with probability `eavesdropperBasisBias`, and resends what she saw; the channel loses
    /// each qubit with probability `loss` and flips each detected result with probability `noise`; Bob
    /// measures in the key basis with probability `basisBias`. A measurement in the wrong basis gives a
    /// uniformly random bit. Basis probabilities are rounded to multiples of 1/64.
    static func run(
        qubits: Int, noise: Double, loss: Double, eavesdropping: Double, basisBias: Double = 0.5,
        eavesdropperBasisBias: Double = 0.5, using generator: inout some RandomNumberGenerator
    ) -> RawTransmission {
        // Basis bit 1 is the diagonal (test) basis: drawn with probability 1 - bias, in 64ths.
        let diagonal = 64 - Int((basisBias * 64).rounded())
        let eveDiagonal = 64 - Int((eavesdropperBasisBias * 64).rounded())
        let wordCount = BitString.wordCount(qubits)
        let flips = RandomBits.bernoulli(qubits, probability: noise, using: &generator)
        let lost = RandomBits.bernoulli(qubits, probability: loss, using: &generator)
        let intercepted = RandomBits.bernoulli(qubits, probability: eavesdropping, using: &generator)
        var raw = RawTransmission(
            qubits: qubits,
            aliceBits: [UInt64](repeating: 0, count: wordCount), aliceBases: [UInt64](repeating: 0, count: wordCount),
            bobBases: [UInt64](repeating: 0, count: wordCount), bobBits: [UInt64](repeating: 0, count: wordCount),
            detected: [UInt64](repeating: 0, count: wordCount))
        let tail: UInt64 = qubits & 63 == 0 ? ~0 : (1 << UInt64(qubits & 63)) &- 1
        for index in 0..<wordCount {
            let valid: UInt64 = index == wordCount - 1 ? tail : ~0
            let bits = generator.next() & valid
            let bases = RandomBits.biased(ones: diagonal, using: &generator) & valid
            let bobBases = RandomBits.biased(ones: diagonal, using: &generator) & valid
            // The photon that reaches Bob: Alice's, or Eve's resent one where she intercepted.
            var photonBits = bits
            var photonBases = bases
            let eve = intercepted[index]
            if eve != 0 {
                let eveBases = RandomBits.biased(ones: eveDiagonal, using: &generator)
                let eveGuesses = generator.next()
                let eveWrong = eveBases ^ bases
                let eveBits = (bits & ~eveWrong) | (eveGuesses & eveWrong)
                photonBits = (bits & ~eve) | (eveBits & eve)
                photonBases = (bases & ~eve) | (eveBases & eve)
            }
            let bobWrong = bobBases ^ photonBases
            let bobGuesses = generator.next()
            let results = ((photonBits & ~bobWrong) | (bobGuesses & bobWrong)) ^ flips[index]
            raw.aliceBits[index] = bits
            raw.aliceBases[index] = bases
            raw.bobBases[index] = bobBases
            raw.bobBits[index] = results & valid
            raw.detected[index] = ~lost[index] & valid
        }
        return raw
    }
}
