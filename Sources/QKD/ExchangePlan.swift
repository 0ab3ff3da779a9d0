internal import Foundation

/// How an exchange divides its qubits between key and parameter estimation, decided before any qubit is
/// sent from the qubit count, the loss and the QBER the link is expected to show: the split that
/// maximises the expected finite-key length of Tomamichel et al. (2012).
///
/// Two protocols are compared. Standard BB84 (basis bias 1/2) keeps the half of the detected qubits whose
/// bases agree and discloses a random sample of them. Efficient BB84 (Lo, Chau and Ardehali, J. Cryptology
/// 18, 133 (2005)) has both parties choose the key basis (rectilinear) with probability p > 1/2: the
/// key is the p² of qubits measured in it by both, and the error rate is estimated on all the (1 - p)²
/// measured in the other (diagonal) basis, which Tomamichel et al.'s analysis covers with n = key bits and
/// k = test bits in the same formulas.
public struct ExchangePlan: Sendable, Hashable {
    /// The grid of basis biases: multiples of 1/64, so the biased basis choice costs at most six random
    /// words per 64 qubits (`RandomBits.biased`).
    public static let biasResolution = 64
    /// The reconciliation efficiency the plan assumes (Cascade measures 1.03-1.09 at 1-8%, docs/bb84.md);
    /// it moves the optimum very little.
    public static let assumedEfficiency = 1.05

    /// Probability that Alice, and independently Bob, choose the key basis; 1/2 is standard BB84.
    public let basisBias: Double
    /// Standard BB84 only: the fraction of sifted bits sampled. Efficient BB84 tests every bit sifted in
    /// the other basis, and this is zero.
    public let sampleFraction: Double
    /// The QBER the plan was made for.
    public let expectedQBER: Double
    /// Key bits (sifted minus the sample, or sifted in the key basis) the plan expects.
    public let expectedKeyBits: Double
    /// The finite-key length the plan expects, in bits; negative when no key is possible, and below -10^9
    /// when even the best split expects its QBER bound over the abort threshold.
    public let expectedLength: Double

    /// The plan for `parameters`: their `basisBias` and `sampleFraction` where set, the best otherwise.
    /// `qber` overrides the expected QBER (validation plans for the best case, 0).
    init(for parameters: BB84Parameters, qber: Double? = nil) {
        let detected = Double(parameters.qubits) * (1 - parameters.loss)
        let q = qber ?? parameters.expectedQBER ?? parameters.noise
        func length(keyBits n: Double, sampleBits k: Double) -> Double {
            guard n >= 1, k >= 1 else { return -.infinity }
            // The bound the exchange will compute if the sample shows exactly the expected errors.
            let sampleBits = Int(k.rounded())
            let bound = SamplingBound.errorRateBound(
                keyBits: Int(n.rounded()), sampleBits: sampleBits,
                sampleErrors: min(sampleBits, Int((q * Double(sampleBits)).rounded())),
                failureProbability: parameters.effectiveBoundFailureProbability)
            // A split whose bound would cross the abort threshold when the sample's rate comes out three
            // standard deviations high aborts too often to be worth its expected length: it ranks below
            // every split that does not, the nearest to the threshold first.
            let excess = bound + 3 * (q * (1 - q) / k).squareRoot() - parameters.qberThreshold
            if excess > 0 { return -1e9 * (1 + excess) }
            let leak = Self.assumedEfficiency * n * FiniteKey.binaryEntropy(q)
            return FiniteKey.secureLength(
                keyBits: n, qberBound: bound, leakedBits: leak, epsilonSecurity: parameters.epsilonSecurity,
                epsilonCorrectness: parameters.epsilonCorrectness)
        }
        var candidates: [ExchangePlan] = []
        if parameters.basisBias == nil || parameters.basisBias == 0.5 {
            func standard(_ fraction: Double) -> ExchangePlan {
                let sample = (detected / 2 * fraction).rounded()
                let key = detected / 2 - sample
                return ExchangePlan(
                    basisBias: 0.5, sampleFraction: fraction, expectedQBER: q, expectedKeyBits: key,
                    expectedLength: length(keyBits: key, sampleBits: sample))
            }
            if let fraction = parameters.sampleFraction {
                candidates.append(standard(fraction))
            } else {
                // The expected length is smooth and single-peaked in the fraction: every tenth point of the
                // 1/500 grid, then every point within ten of the best (44 exact bounds instead of 250).
                let coarse = stride(from: 5, through: 245, by: 10).map { standard(Double($0) / 500) }
                let peak = Int((coarse.max { $0.expectedLength < $1.expectedLength }!.sampleFraction * 500).rounded())
                candidates += coarse
                candidates += (max(1, peak - 9)...min(250, peak + 9)).map { standard(Double($0) / 500) }
            }
        }
        let grid = Double(Self.biasResolution)
        let biases =
            parameters.basisBias.map { $0 == 0.5 ? [] : [Self.quantised($0)] }
            ?? (Self.biasResolution / 2 + 1..<Self.biasResolution).map { Double($0) / grid }
        for p in biases {
            let key = detected * p * p
            candidates.append(
                ExchangePlan(
                    basisBias: p, sampleFraction: 0, expectedQBER: q, expectedKeyBits: key,
                    expectedLength: length(keyBits: key, sampleBits: detected * (1 - p) * (1 - p))))
        }
        self = candidates.max { $0.expectedLength < $1.expectedLength }!
    }

    private init(
        basisBias: Double, sampleFraction: Double, expectedQBER: Double, expectedKeyBits: Double,
        expectedLength: Double
    ) {
        self.basisBias = basisBias
        self.sampleFraction = sampleFraction
        self.expectedQBER = expectedQBER
        self.expectedKeyBits = expectedKeyBits
        self.expectedLength = expectedLength
    }

    /// `bias` rounded to the grid, kept inside (1/2, 1).
    static func quantised(_ bias: Double) -> Double {
        let grid = Double(biasResolution)
        return min(max((bias * grid).rounded(), grid / 2 + 1), grid - 1) / grid
    }

    /// Efficient BB84: the key from one basis, the estimate from the other.
    var isBiased: Bool { basisBias != 0.5 }
}
