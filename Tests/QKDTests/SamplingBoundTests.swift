@testable import QKD
import Foundation
import Testing

@Suite("The exact sampling bound on the key's error rate")
struct SamplingBoundTests {
    /// For every possible number of errors in a small population, the probability (computed exactly over
    /// every sample outcome) that the key's error rate exceeds the bound is at most δ; and the bound is
    /// the tightest of its kind: one error lower anywhere, and some population breaks δ.
    @Test(arguments: [(60, 40, 0.05), (150, 50, 0.01), (90, 10, 0.2)])
    func failsWithProbabilityAtMostDeltaAndNoLess(n: Int, k: Int, δ: Double) {
        let bounds = (0...k).map {
            SamplingBound.errorRateBound(keyBits: n, sampleBits: k, sampleErrors: $0, failureProbability: δ)
        }
        var worst = 0.0
        var worstTighter = 0.0
        for total in 0...(n + k) {
            var failure = 0.0
            var failureTighter = 0.0
            for e in 0...k {
                let keyErrors = total - e
                guard keyErrors >= 0, keyErrors <= n else { continue }
                let p = exp(ReferenceSamplingBound.logTerm(e, population: n + k, successes: total, draws: k))
                let allowed = Int((bounds[e] * Double(n)).rounded())
                if keyErrors > allowed { failure += p }
                if keyErrors > allowed - 1 { failureTighter += p }
            }
            worst = max(worst, failure)
            worstTighter = max(worstTighter, failureTighter)
        }
        #expect(worst <= δ, "worst failure probability \(worst) over δ \(δ)")
        #expect(worstTighter >= δ, "a bound one error lower still held (\(worstTighter) < δ): it was not the tightest")
    }

    /// At the sizes exchanges use, the bound equals the reference evaluation to the error.
    @Test(arguments: [
        (765_000, 15_600, 312), (420_000, 80_000, 1_600), (200_000, 48_000, 2_400), (10_000, 1_000, 0),
        (1_000, 50, 50), (3_000_000, 250_000, 20_000),
    ])
    func equalsTheReferenceAtExchangeSizes(n: Int, k: Int, e: Int) {
        let δ = 1e-20 / 4
        let bound = SamplingBound.errorRateBound(keyBits: n, sampleBits: k, sampleErrors: e, failureProbability: δ)
        let reference = ReferenceSamplingBound.keyErrors(keyBits: n, sampleBits: k, sampleErrors: e, failureProbability: δ)
        #expect(abs(Int((bound * Double(n)).rounded()) - reference) <= 1, "bound \(bound * Double(n)) reference \(reference)")
    }

    /// Serfling's margin, which Tomamichel et al. use, bounds the same tail: the exact bound never lies
    /// above it, and at 10^6 qubits and 2% with efficient BB84's test basis it takes less than 60% of it.
    @Test func isNeverWiderThanSerflingsAndMuchNarrowerWhereTheTestBasisIsSmall() {
        let δ = 1e-20 / 4
        for (n, k) in [(765_000, 15_600), (400_000, 100_000), (50_000, 5_000), (2_000, 2_000)] {
            for rate in [0.0, 0.01, 0.02, 0.05, 0.08, 0.2] {
                let e = Int(rate * Double(k))
                let exact = SamplingBound.errorRateBound(keyBits: n, sampleBits: k, sampleErrors: e, failureProbability: δ)
                let serfling = Double(e) / Double(k) + FiniteKey.margin(keyBits: n, sampleBits: k, failureProbability: δ)
                #expect(exact <= serfling, "n \(n) k \(k) e \(e): \(exact) > \(serfling)")
            }
        }
        let e = 312
        let exact = SamplingBound.errorRateBound(keyBits: 765_000, sampleBits: 15_600, sampleErrors: e, failureProbability: δ)
        let serfling = FiniteKey.margin(keyBits: 765_000, sampleBits: 15_600, failureProbability: δ)
        #expect(exact - 0.02 < 0.6 * serfling, "exact margin \(exact - 0.02), Serfling's \(serfling)")
    }

    @Test func edgeCases() {
        // No key bits: nothing to bound. A sample with every bit wrong leaves every key bit possibly wrong.
        #expect(SamplingBound.errorRateBound(keyBits: 0, sampleBits: 10, sampleErrors: 3, failureProbability: 0.1) == 0)
        #expect(SamplingBound.errorRateBound(keyBits: 100, sampleBits: 10, sampleErrors: 10, failureProbability: 0.1) == 1)
        // A tiny sample proves little: ten clean bits at δ = 1e-6 cannot bound the key much below 1.
        #expect(SamplingBound.errorRateBound(keyBits: 1_000, sampleBits: 10, sampleErrors: 0, failureProbability: 1e-6) > 0.7)
        // The lower tail is exact at its ends.
        #expect(SamplingBound.logLowerTail(atMost: 5, population: 20, successes: 5, draws: 10) == 0)
        #expect(SamplingBound.logLowerTail(atMost: 0, population: 20, successes: 15, draws: 10) == -.infinity)
    }
}
