@testable import QKD
import QSMTesting
import Testing

/// Statistics of the quantum stage, on whole sifted keys. Tolerances are five standard deviations of
/// the binomial estimate at the stated sizes, so a correct simulation fails with probability below 1e-6
/// (and the seeded generator makes every run reproducible).
@Suite("Transmission and sifting")
struct ChannelStatisticsTests {
    /// The sifted keys' error rate and the sifted fraction for one simulated transmission.
    func transmit(qubits: Int, noise: Double = 0, loss: Double = 0, eavesdropping: Double = 0, seed: UInt64)
        -> (qber: Double, sifted: Int, detected: Int)
    {
        var generator = SeededGenerator(seed: seed)
        let raw = Transmission.run(
            qubits: qubits, noise: noise, loss: loss, eavesdropping: eavesdropping, using: &generator)
        let (alice, bob) = Sifting.run(raw)
        return (Double(alice.hammingDistance(to: bob)) / Double(alice.count), alice.count, raw.detectedCount)
    }

    /// 5σ of a binomial proportion p estimated from n trials.
    func tolerance(_ p: Double, _ n: Int) -> Double { 5 * (p * (1 - p) / Double(n)).squareRoot() }

    @Test func noiselessChannelKeepsAboutHalfWithoutErrors() {
        let qubits = 400_000
        let result = transmit(qubits: qubits, seed: 1)
        #expect(result.qber == 0)
        #expect(result.detected == qubits)
        // Sifting keeps each qubit with probability 1/2: 5σ = 5 · sqrt(0.25 / 400000) ≈ 0.004.
        #expect(abs(Double(result.sifted) / Double(qubits) - 0.5) < tolerance(0.5, qubits))
    }

    @Test(arguments: [0.01, 0.03, 0.08])
    func noiseGivesItsRateAsQBER(noise: Double) {
        let result = transmit(qubits: 400_000, noise: noise, seed: 2)
        // About 200000 sifted bits: 5σ ≤ 0.003 at p = 8%.
        #expect(abs(result.qber - noise) < tolerance(noise, result.sifted), "QBER \(result.qber)")
    }

    @Test(arguments: [0.2, 0.5, 1.0])
    func interceptResendOnFractionGivesAQuarterOfIt(fraction: Double) {
        let result = transmit(qubits: 400_000, eavesdropping: fraction, seed: 3)
        // Eve picks the wrong basis half the time, and then Bob's sifted bit is random: e/4.
        #expect(abs(result.qber - fraction / 4) < tolerance(fraction / 4, result.sifted), "QBER \(result.qber)")
    }

    @Test func lossRemovesItsShareOfQubits() {
        let qubits = 400_000
        let result = transmit(qubits: qubits, loss: 0.9, seed: 4)
        // 5σ = 5 · sqrt(0.09 / 400000) ≈ 0.0024 on the detected fraction 0.1.
        #expect(abs(Double(result.detected) / Double(qubits) - 0.1) < tolerance(0.1, qubits))
        #expect(abs(Double(result.sifted) / Double(result.detected) - 0.5) < tolerance(0.5, result.detected))
        #expect(result.qber == 0)
    }

    @Test func bernoulliMasksHaveTheirRateAtEitherEnd() {
        var generator = SeededGenerator(seed: 5)
        for probability in [0.0, 0.001, 0.3, 0.7, 0.999, 1.0] {
            let count = 100_003
            let raw = RandomBits.bernoulli(count, probability: probability, using: &generator)
            // The tail past `count` (35 bits into the last word) stays clear in the raw words, which
            // BitString(words:count:) would otherwise hide by clearing it.
            #expect(raw.count == BitString.wordCount(count))
            #expect(raw.last! >> UInt64(count & 63) == 0, "bits set past the end at p = \(probability)")
            let ones = raw.reduce(0) { $0 + $1.nonzeroBitCount }
            #expect(abs(Double(ones) / Double(count) - probability) <= tolerance(probability, count))
        }
    }
}
