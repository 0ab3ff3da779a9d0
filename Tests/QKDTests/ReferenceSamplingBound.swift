import Foundation

/// An independent evaluation of the exact sampling bound for tests: every hypergeometric term from its
/// own log-binomials (no recurrence), summed by log-sum-exp, and a plain bisection on the key's errors.
enum ReferenceSamplingBound {
    static func logChoose(_ a: Int, _ b: Int) -> Double {
        var sign: Int32 = 0
        return lgamma_r(Double(a) + 1, &sign) - lgamma_r(Double(b) + 1, &sign) - lgamma_r(Double(a - b) + 1, &sign)
    }

    /// ln P[X = x], X hypergeometric (N, K, k draws); -inf outside the support.
    static func logTerm(_ x: Int, population N: Int, successes K: Int, draws k: Int) -> Double {
        guard x >= max(0, k - (N - K)), x <= min(k, K) else { return -.infinity }
        return logChoose(K, x) + logChoose(N - K, k - x) - logChoose(N, k)
    }

    /// P[X ≤ x], summed term by term.
    static func lowerTail(_ x: Int, population N: Int, successes K: Int, draws k: Int) -> Double {
        let logs = (0...max(0, x)).map { logTerm($0, population: N, successes: K, draws: k) }
        let top = logs.max() ?? -.infinity
        guard top > -.infinity else { return 0 }
        return exp(top) * logs.reduce(0) { $0 + exp($1 - top) }
    }

    /// The largest number of key errors E with P[X ≤ e | K = e + E] ≥ δ, found by bisection (the tail
    /// falls as K grows).
    static func keyErrors(keyBits n: Int, sampleBits k: Int, sampleErrors e: Int, failureProbability δ: Double) -> Int {
        let logδ = log(δ)
        func holds(_ E: Int) -> Bool {
            log(lowerTail(e, population: n + k, successes: e + E, draws: k)) >= logδ
        }
        if holds(n) { return n }
        var (low, high) = (0, n)
        while high - low > 1 {
            let middle = (low + high) / 2
            if holds(middle) { low = middle } else { high = middle }
        }
        return low
    }
}
