@testable import QKD
import Foundation
import QSMTesting
import Testing

/// Efficient BB84 (Lo, Chau and Ardehali 2005): the biased channel's statistics, the planner, and the
/// pipeline under an eavesdropper. Channel tolerances are four standard deviations of the binomial
/// estimate; every run is seeded, so a pass or fail is reproducible.
@Suite("Efficient BB84")
struct EfficientBB84Tests {
    /// Sifted counts and error rates of each basis after one biased transmission.
    struct Split {
        var qubits: Int
        var keyBits: Int
        var keyErrors: Int
        var testBits: Int
        var testErrors: Int
        var keyQBER: Double { Double(keyErrors) / Double(keyBits) }
        var testQBER: Double { Double(testErrors) / Double(testBits) }
    }

    func transmit(
        qubits: Int, bias: Double, noise: Double = 0, eavesdropping: Double = 0, eavesdropperBias: Double = 0.5,
        seed: UInt64
    ) -> Split {
        var generator = SeededGenerator(seed: seed)
        let raw = Transmission.run(
            qubits: qubits, noise: noise, loss: 0, eavesdropping: eavesdropping, basisBias: bias,
            eavesdropperBasisBias: eavesdropperBias, using: &generator)
        let (key, test) = Sifting.split(raw)
        return Split(
            qubits: qubits, keyBits: key.alice.count, keyErrors: key.alice.hammingDistance(to: key.bob),
            testBits: test.alice.count, testErrors: test.alice.hammingDistance(to: test.bob))
    }

    /// 4σ of a binomial proportion p estimated from n trials.
    func tolerance(_ p: Double, _ n: Int) -> Double { 4 * (p * (1 - p) / Double(n)).squareRoot() }

    /// |observed - expected| within 4σ, with the figures in the message when it is not.
    func expectNear(_ observed: Double, _ expected: Double, _ n: Int, _ what: String) {
        #expect(abs(observed - expected) <= tolerance(expected, n), "\(what): \(observed), theory \(expected)")
    }

    @Test(arguments: [0.5, 0.75, 56.0 / 64, 63.0 / 64])
    func eachBasisIsSiftedWithTheSquareOfItsProbability(bias: Double) {
        let split = transmit(qubits: 400_000, bias: bias, noise: 0.03, seed: 60)
        expectNear(Double(split.keyBits) / 400_000, bias * bias, 400_000, "key-basis fraction")
        expectNear(Double(split.testBits) / 400_000, (1 - bias) * (1 - bias), 400_000, "test-basis fraction")
        expectNear(split.keyQBER, 0.03, split.keyBits, "key QBER")
        expectNear(split.testQBER, 0.03, split.testBits, "test QBER")
    }

    /// Eve measuring the fraction e in the key basis with probability b: a key-basis qubit is disturbed
    /// (error 1/2) when she picks the other basis, a test-basis qubit when she picks the key basis. So the
    /// key basis shows e(1 - b)/2 and the test basis e b/2; noise n then flips each: q(1 - n) + (1 - q)n.
    @Test(arguments: [(1.0, 1.0), (1.0, 56.0 / 64), (0.3, 56.0 / 64), (0.5, 0.5)])
    func interceptResendShowsInTheBasisEveDidNotChoose(eavesdropping: Double, eavesdropperBias: Double) {
        let noise = 0.01
        let split = transmit(
            qubits: 1_000_000, bias: 56.0 / 64, noise: noise, eavesdropping: eavesdropping,
            eavesdropperBias: eavesdropperBias, seed: 61)
        func noisy(_ q: Double) -> Double { q * (1 - noise) + (1 - q) * noise }
        expectNear(split.keyQBER, noisy(eavesdropping * (1 - eavesdropperBias) / 2), split.keyBits, "key QBER")
        expectNear(split.testQBER, noisy(eavesdropping * eavesdropperBias / 2), split.testBits, "test QBER")
    }

    /// An eavesdropper who measures every qubit in the key basis leaves the key basis clean, but the test
    /// basis shows half its bits wrong, and the exchange aborts.
    @Test func anEavesdropperOnTheKeyBasisIsDetected() throws {
        var generator = SeededGenerator(seed: 62)
        let parameters = BB84Parameters(qubits: 1_000_000, noise: 0.02, eavesdropping: 1, eavesdropperBasisBias: 1)
        let outcome = try BB84.run(parameters: parameters, using: &generator)
        let report = outcome.report
        #expect(report.basisBias > 0.5)
        guard case .qberAboveThreshold = outcome.abortReason else {
            Issue.record("expected an abort for the QBER, got \(String(describing: outcome.abortReason))")
            return
        }
        let expected = 0.5 * 0.98 + 0.5 * 0.02
        #expect(abs(report.qber - expected) <= tolerance(expected, report.sampleSize), "QBER \(report.qber)")
        #expect(outcome.keys == nil && report.leakedBits == 0)
    }

    /// The default run at 10^6 qubits and 2%: efficient BB84 with the planned bias, keys equal, the length
    /// exactly the Tomamichel et al. formula with n the key-basis bits and k the test-basis bits.
    @Test func defaultExchangeIsEfficientAndKeepsTheFormulaLength() throws {
        var generator = SeededGenerator(seed: 63)
        let parameters = BB84Parameters(qubits: 1_000_000, noise: 0.02)
        let outcome = try BB84.run(parameters: parameters, using: &generator)
        let keys = try #require(outcome.keys, "aborted: \(String(describing: outcome.abortReason))")
        let report = outcome.report
        #expect(keys.alice == keys.bob)
        let p = report.basisBias
        #expect(p == ExchangePlan(for: parameters).basisBias && p > 0.8 && p < 0.95)
        expectNear(Double(report.keyBits) / 1e6, p * p, 1_000_000, "key bits")
        expectNear(Double(report.sampleSize) / 1e6, (1 - p) * (1 - p), 1_000_000, "test bits")
        #expect(report.siftedBits == report.keyBits + report.sampleSize)
        let n = Double(report.keyBits)
        let keyErrors = ReferenceSamplingBound.keyErrors(
            keyBits: report.keyBits, sampleBits: report.sampleSize, sampleErrors: report.sampleErrors,
            failureProbability: parameters.effectiveBoundFailureProbability)
        let q = Double(keyErrors) / n
        #expect(report.qberUpperBound == q)
        let h = -q * log2(q) - (1 - q) * log2(1 - q)
        let cost = log2(2 / (pow(parameters.epsilonSecurity, 2) * parameters.epsilonCorrectness))
        #expect(report.finalBits == Int((n * (1 - h) - Double(report.leakedBits) - cost).rounded(.down)))
        // Standard BB84 with the best sample keeps about 0.30 bits per qubit here; efficient BB84 over 0.42.
        #expect(Double(report.finalBits) / 1e6 > 0.42, "\(report.finalBits) bits")
    }

    /// The planned sample (standard BB84) and bias (efficient) maximise the expected length: no point of a
    /// finer grid around them does better by more than the grid's own rounding, and the planned sample
    /// beats the old fixed 20%.
    @Test(arguments: [0.01, 0.02, 0.05, 0.08])
    func planMaximisesTheExpectedLength(qber: Double) {
        let standard = BB84Parameters(qubits: 1_000_000, noise: qber, basisBias: 0.5)
        let plan = ExchangePlan(for: standard)
        var fixed = standard
        fixed.sampleFraction = 0.2
        #expect(plan.expectedLength >= ExchangePlan(for: fixed).expectedLength)
        for step in [-0.01, -0.002, 0.002, 0.01] {
            var other = standard
            other.sampleFraction = plan.sampleFraction + step
            let length = ExchangePlan(for: other).expectedLength
            #expect(plan.expectedLength >= length - 1, "fraction \(plan.sampleFraction)")
        }
        let efficient = ExchangePlan(for: BB84Parameters(qubits: 1_000_000, noise: qber))
        #expect(efficient.basisBias > 0.5 && efficient.expectedLength > plan.expectedLength)
        for bias in [efficient.basisBias - 1.0 / 64, efficient.basisBias + 1.0 / 64] where bias < 1 {
            let other = ExchangePlan(for: BB84Parameters(qubits: 1_000_000, noise: qber, basisBias: bias))
            #expect(efficient.expectedLength >= other.expectedLength)
        }
    }

    /// Biased words have their rate for every numerator of 64.
    @Test func biasedWordsHaveTheirRate() {
        var generator = SeededGenerator(seed: 64)
        for ones in [0, 1, 7, 8, 32, 45, 63, 64] {
            var count = 0
            for _ in 0..<4_000 { count += RandomBits.biased(ones: ones, using: &generator).nonzeroBitCount }
            expectNear(Double(count) / 256_000, Double(ones) / 64, 256_000, "\(ones)/64")
        }
    }
}
