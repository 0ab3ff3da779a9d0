internal import Foundation

/// The exact upper confidence bound on the error rate of the unsampled bits of a random split, from the
/// hypergeometric distribution itself rather than a tail inequality.
///
/// n key bits and k test bits are a uniformly random split of n + k positions (the sample drawn
/// without replacement, or, in efficient BB84, the hidden basis choices). Say the key holds E errors and
/// the sample e. For every possible total T = e + E, the number of errors that falls in the sample is
/// hypergeometric: X ~ H(N = n + k, K = T, k draws), and P[X ≤ e] falls as T grows. The bound is
/// U(e) = E*/n, where E* is the largest E with P[X ≤ e | K = e + E] ≥ δ. For any fixed T, the outcomes
/// e with (T - e)/n > U(e) are exactly those with P[X ≤ e | K = T] < δ, an initial segment of the
/// support, so their total probability is below δ: the statement Tomamichel et al. (2012) take from
/// Serfling's inequality, P[λ_key > λ_test + µ] ≤ δ, holds with µ = U(e) - e/k. Serfling's µ bounds
/// the same tail and is always at least as wide; at 10^6 qubits and 2% it is about twice as wide, which
/// is most of what efficient BB84's small test basis costs.
enum SamplingBound {
    /// U(e): the largest error rate of the `keyBits` unsampled bits still consistent, at failure
    /// probability `failureProbability`, with `sampleErrors` errors among `sampleBits` sampled ones.
    /// 1 when every key bit may be in error; 0 only when n is 0.
    static func errorRateBound(keyBits n: Int, sampleBits k: Int, sampleErrors e: Int, failureProbability δ: Double)
        -> Double
    {
        precondition(n >= 0 && k > 0 && e >= 0 && e <= k, "a sample of \(k) bits with \(e) errors")
        precondition(δ > 0 && δ < 1, "a failure probability in (0, 1)")
        guard n > 0 else { return 0 }
        let logδ = log(δ)
        func holds(_ keyErrors: Int) -> Bool {
            logLowerTail(atMost: e, population: n + k, successes: e + keyErrors, draws: k) >= logδ
        }
        // Up to the point estimate e/k, e is at or above the mean of X and its lower tail is about 1/2 or
        // more; starting there keeps every tail summed below the mode, where its terms fall geometrically.
        var low = min(n, e * n / k)
        if !holds(low) { low = 0 }
        // Serfling's bound lies above this one (it bounds the same tail), so it closes the bracket a few
        // halvings sooner than n would; checked rather than trusted, with n as the fallback.
        let serfling = Double(e) / Double(k) + FiniteKey.margin(keyBits: n, sampleBits: k, failureProbability: δ)
        var high = min(n, Int((serfling * Double(n)).rounded(.up)) + 1)
        if high <= low || holds(high) {
            if holds(n) { return 1 }
            high = n
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if holds(middle) { low = middle } else { high = middle }
        }
        return Double(low) / Double(n)
    }

    /// ln P[X ≤ x] for X hypergeometric with `draws` draws from a population of `population` holding
    /// `successes`. Sums downward from x by the ratio of consecutive terms, in the scale of the term at
    /// x, so tails far below 10^-300 stay exact in their logarithm.
    static func logLowerTail(atMost x: Int, population: Int, successes: Int, draws: Int) -> Double {
        let (N, K, k) = (population, successes, draws)
        let lowest = max(0, k - (N - K))
        let highest = min(k, K)
        if x >= highest { return 0 }
        if x < lowest { return -.infinity }
        let logTerm = logChoose(K, x) + logChoose(N - K, k - x) - logChoose(N, k)
        var sum = 1.0
        var term = 1.0
        var i = x
        while i > lowest {
            // P[X = i - 1] / P[X = i]
            term *= Double(i) * Double(N - K - k + i) / (Double(K - i + 1) * Double(k - i + 1))
            sum += term
            if term < sum * 1e-17 { break }
            i -= 1
        }
        return logTerm + log(sum)
    }

    /// ln C(a, b).
    static func logChoose(_ a: Int, _ b: Int) -> Double {
        logFactorial(a) - logFactorial(b) - logFactorial(a - b)
    }

    /// ln m!, by lgamma_r: plain lgamma writes the global `signgam`, a data race between exchanges that
    /// run at once.
    private static func logFactorial(_ m: Int) -> Double {
        var sign: Int32 = 0
        return lgamma_r(Double(m) + 1, &sign)
    }
}
