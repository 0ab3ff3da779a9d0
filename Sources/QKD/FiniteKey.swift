internal import Foundation

/// The finite-key formulas of Tomamichel, Lim, Gisin and Renner, "Tight finite-key analysis for
/// quantum cryptography", Nat. Commun. 3, 634 (2012).
public enum FiniteKey {
    /// The binary entropy h(x) = -x log2 x - (1-x) log2(1-x), with h(0) = h(1) = 0.
    public static func binaryEntropy(_ x: Double) -> Double {
        if x <= 0 || x >= 1 { return 0 }
        return -x * log2(x) - (1 - x) * log2(1 - x)
    }

    /// The statistical margin µ such that the error rate of the `keyBits` unsampled bits exceeds the
    /// rate seen on the `sampleBits` sampled ones by more than µ with probability at most
    /// `failureProbability` (Serfling's bound for sampling without replacement, as in Tomamichel et al.):
    /// µ = sqrt((n + k)/(n k) · (k + 1)/k · ln(1/δ) / 2). With δ = ε_sec²/4 this is the paper's
    /// µ = sqrt((n + k)/(n k) · (k + 1)/k · ln(2/ε_sec)).
    public static func margin(keyBits n: Int, sampleBits k: Int, failureProbability δ: Double) -> Double {
        margin(keyBits: Double(n), sampleBits: Double(k), failureProbability: δ)
    }

    /// The margin for expected (fractional) counts, as plans need.
    static func margin(keyBits n: Double, sampleBits k: Double, failureProbability δ: Double) -> Double {
        guard n > 0, k > 0 else { return .infinity }
        return ((n + k) / (n * k) * (k + 1) / k * log(1 / δ) / 2).squareRoot()
    }

    /// The secure length before rounding: n(1 - h(Q + µ)) - leak_EC - log2(2 / (ε_sec² ε_cor)), where
    /// `qberBound` is Q + µ (taken as 1/2 above 1/2, where h peaks).
    public static func secureLength(
        keyBits n: Int, qberBound: Double, leakedBits: Int, epsilonSecurity: Double, epsilonCorrectness: Double
    ) -> Double {
        secureLength(
            keyBits: Double(n), qberBound: qberBound, leakedBits: Double(leakedBits), epsilonSecurity: epsilonSecurity,
            epsilonCorrectness: epsilonCorrectness)
    }

    /// The secure length for expected (fractional) counts, as plans need.
    static func secureLength(
        keyBits n: Double, qberBound: Double, leakedBits: Double, epsilonSecurity: Double, epsilonCorrectness: Double
    ) -> Double {
        let entropy = binaryEntropy(min(qberBound, 0.5))
        return n * (1 - entropy) - leakedBits - securityCost(epsilonSecurity, epsilonCorrectness)
    }

    /// log2(2 / (ε_sec² ε_cor)): what privacy amplification and confirmation cost, summed in logarithms so
    /// tiny ε do not underflow.
    static func securityCost(_ epsilonSecurity: Double, _ epsilonCorrectness: Double) -> Double {
        1 - 2 * log2(epsilonSecurity) - log2(epsilonCorrectness)
    }

    /// The number of key bits to keep: the secure length rounded down, or 0 when it is not positive.
    public static func finalLength(
        keyBits n: Int, qberBound: Double, leakedBits: Int, epsilonSecurity: Double, epsilonCorrectness: Double
    ) -> Int {
        let length = secureLength(
            keyBits: n, qberBound: qberBound, leakedBits: leakedBits, epsilonSecurity: epsilonSecurity,
            epsilonCorrectness: epsilonCorrectness)
        return length >= 1 ? Int(length.rounded(.down)) : 0
    }

    /// The asymptotic BB84 secret fraction 1 - 2h(Q) (Shor-Preskill), for comparison in reports.
    public static func asymptoticSecretFraction(qber: Double) -> Double { max(0, 1 - 2 * binaryEntropy(qber)) }
}
