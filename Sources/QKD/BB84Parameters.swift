internal import Foundation

/// The settings of one BB84 exchange: the simulated channel and the security targets.
public struct BB84Parameters: Sendable, Hashable {
    /// The largest run accepted (2^28 qubits, about 200 MB of working memory); split larger exchanges.
    public static let maximumQubits = 1 << 28

    /// Qubits Alice sends.
    public var qubits: Int
    /// Probability that the channel flips a detected qubit's result.
    public var noise: Double
    /// Probability that the channel loses a qubit (Bob detects nothing).
    public var loss: Double
    /// Fraction of qubits an intercept-resend eavesdropper measures and resends.
    public var eavesdropping: Double
    /// Probability that the eavesdropper measures in the key basis (on the 1/64 grid); nil means the
    /// exchange's own basis bias, which is her best guess of each qubit's basis.
    public var eavesdropperBasisBias: Double?
    /// Probability that Alice, and independently Bob, choose the key basis: 1/2 is standard BB84; above
    /// 1/2 is efficient BB84 (Lo, Chau and Ardehali 2005), rounded to a multiple of 1/64 in (1/2, 1), with
    /// the key from the key basis and the error estimated on every bit sifted in the other. Nil (the
    /// default) chooses, among standard BB84 and every bias, the one that maximises the expected
    /// finite-key length for the qubit count and `expectedQBER` (`ExchangePlan`): 0.875 at 10^6
    /// qubits and 2%, lower for fewer qubits or more noise.
    public var basisBias: Double?
    /// Standard BB84 only: the fraction of the sifted bits disclosed for parameter estimation (then
    /// discarded). Nil (the default) chooses the fraction that maximises the expected finite-key length.
    public var sampleFraction: Double?
    /// The QBER the link is expected to show, used only to plan the basis bias and the sample; nil means
    /// `noise` (what a calibrated link of that noise shows without an eavesdropper).
    public var expectedQBER: Double?
    /// Abort when the QBER's upper confidence bound exceeds this (default 11%).
    public var qberThreshold: Double
    /// Probability that the true QBER of the key exceeds the bound; nil means ε_sec²/4, the probability
    /// for which Tomamichel et al. (2012) compute their margin µ. The bound itself is the exact
    /// hypergeometric one (`SamplingBound`), never wider than theirs.
    public var boundFailureProbability: Double?
    /// ε_sec: the final key is ε_sec-close to uniform and independent of the eavesdropper.
    public var epsilonSecurity: Double
    /// ε_cor: probability that the final keys differ without the exchange aborting.
    public var epsilonCorrectness: Double

    /// Parameters with the documented defaults: no noise, loss or eavesdropper, the basis bias and sample
    /// chosen for the best expected key, an 11% threshold, ε_sec = 1e-10 and ε_cor = 1e-15.
    public init(
        qubits: Int, noise: Double = 0, loss: Double = 0, eavesdropping: Double = 0,
        eavesdropperBasisBias: Double? = nil, basisBias: Double? = nil, sampleFraction: Double? = nil,
        expectedQBER: Double? = nil, qberThreshold: Double = 0.11, boundFailureProbability: Double? = nil,
        epsilonSecurity: Double = 1e-10, epsilonCorrectness: Double = 1e-15
    ) {
        self.qubits = qubits
        self.noise = noise
        self.loss = loss
        self.eavesdropping = eavesdropping
        self.eavesdropperBasisBias = eavesdropperBasisBias
        self.basisBias = basisBias
        self.sampleFraction = sampleFraction
        self.expectedQBER = expectedQBER
        self.qberThreshold = qberThreshold
        self.boundFailureProbability = boundFailureProbability
        self.epsilonSecurity = epsilonSecurity
        self.epsilonCorrectness = epsilonCorrectness
    }

    /// The failure probability the bound uses.
    public var effectiveBoundFailureProbability: Double {
        boundFailureProbability ?? epsilonSecurity * epsilonSecurity / 4
    }

    /// Checks every parameter, and that they can yield a key at all (no errors, no leakage, the
    /// expected number of sifted bits).
    /// - Throws: `QKDError` naming the first parameter at fault and why.
    public func validate() throws(QKDError) {
        guard qubits > 0 else { throw QKDError(parameter: "qubits", reason: "\(qubits) is not a positive count") }
        guard qubits <= Self.maximumQubits else {
            throw QKDError(
                parameter: "qubits",
                reason: "\(qubits) exceeds the \(Self.maximumQubits) a run accepts; split the exchange")
        }
        try QKDError.checkProbability(noise, "noise")
        try QKDError.checkProbability(loss, "loss")
        try QKDError.checkProbability(eavesdropping, "eavesdropping")
        if let eavesdropperBasisBias { try QKDError.checkProbability(eavesdropperBasisBias, "eavesdropperBasisBias") }
        if let basisBias {
            guard basisBias.isFinite, basisBias >= 0.5, basisBias < 1 else {
                throw QKDError(parameter: "basisBias", reason: "\(basisBias) must lie in [0.5, 1)")
            }
        }
        if let sampleFraction { try QKDError.checkOpenUnit(sampleFraction, "sampleFraction") }
        if let expectedQBER {
            guard expectedQBER.isFinite, expectedQBER >= 0, expectedQBER <= 0.5 else {
                throw QKDError(parameter: "expectedQBER", reason: "\(expectedQBER) is not an error rate in [0, 1/2]")
            }
        }
        guard qberThreshold.isFinite, qberThreshold > 0, qberThreshold <= 0.5 else {
            throw QKDError(parameter: "qberThreshold", reason: "\(qberThreshold) must lie in (0, 0.5]")
        }
        try QKDError.checkOpenUnit(epsilonSecurity, "epsilonSecurity")
        try QKDError.checkOpenUnit(epsilonCorrectness, "epsilonCorrectness")
        if let boundFailureProbability {
            try QKDError.checkOpenUnit(boundFailureProbability, "boundFailureProbability")
        } else if effectiveBoundFailureProbability == 0 {
            throw QKDError(
                parameter: "epsilonSecurity", reason: "\(epsilonSecurity) is so small that ε_sec²/4 underflows to 0")
        }
        guard loss < 1 else { throw QKDError(parameter: "loss", reason: "1 loses every qubit, which leaves no key") }
        // The best case: every detected qubit kept as key, then the best plan with no errors and nothing
        // leaked in reconciliation.
        let detected = Double(qubits) * (1 - loss)
        let cost = FiniteKey.securityCost(epsilonSecurity, epsilonCorrectness)
        if detected <= cost {
            throw QKDError(
                parameter: "epsilonSecurity",
                reason: "about \(Int(detected)) detected qubits cannot cover the "
                    + "\(Int(cost.rounded(.up)))-bit finite-key cost of epsilonSecurity \(epsilonSecurity) and "
                    + "epsilonCorrectness \(epsilonCorrectness): no key is possible")
        }
        let best = ExchangePlan(for: self, qber: 0)
        guard best.expectedLength >= 1 else {
            throw QKDError(
                parameter: "qubits",
                reason: "\(qubits) qubits (about \(Int(best.expectedKeyBits)) key bits at best) leave no secure key "
                    + "even without errors: the statistical margin is too wide; send more qubits")
        }
    }
}
