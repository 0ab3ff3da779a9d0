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
    /// Fraction of the sifted bits disclosed for parameter estimation (then discarded).
    public var sampleFraction: Double
    /// Abort when the QBER's upper confidence bound exceeds this (default 11%).
    public var qberThreshold: Double
    /// Probability that the true QBER of the key exceeds the bound; nil means ε_sec²/4, which makes the
    /// bound's margin exactly µ of Tomamichel et al. (2012).
    public var boundFailureProbability: Double?
    /// ε_sec: the final key is ε_sec-close to uniform and independent of the eavesdropper.
    public var epsilonSecurity: Double
    /// ε_cor: probability that the final keys differ without the exchange aborting.
    public var epsilonCorrectness: Double

    /// Parameters with the documented defaults: no noise, loss or eavesdropper, a 20% sample, an 11%
    /// threshold, ε_sec = 1e-10 and ε_cor = 1e-15.
    public init(
        qubits: Int, noise: Double = 0, loss: Double = 0, eavesdropping: Double = 0, sampleFraction: Double = 0.2,
        qberThreshold: Double = 0.11, boundFailureProbability: Double? = nil, epsilonSecurity: Double = 1e-10,
        epsilonCorrectness: Double = 1e-15
    ) {
        self.qubits = qubits
        self.noise = noise
        self.loss = loss
        self.eavesdropping = eavesdropping
        self.sampleFraction = sampleFraction
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
        try QKDError.checkOpenUnit(sampleFraction, "sampleFraction")
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
        // The best case: the expected sifted bits, no errors and nothing leaked in reconciliation.
        let sifted = Double(qubits) * (1 - loss) / 2
        let sample = max(1, Int((sifted * sampleFraction).rounded()))
        let key = Int(sifted) - sample
        let cost = 1 - 2 * log2(epsilonSecurity) - log2(epsilonCorrectness)
        if Double(key) <= cost {
            throw QKDError(
                parameter: "epsilonSecurity",
                reason: "about \(max(key, 0)) key bits after sifting and sampling cannot cover the "
                    + "\(Int(cost.rounded(.up)))-bit finite-key cost of epsilonSecurity \(epsilonSecurity) and "
                    + "epsilonCorrectness \(epsilonCorrectness): no key is possible")
        }
        let best = FiniteKey.secureLength(
            keyBits: key,
            qberBound: FiniteKey.margin(
                keyBits: key, sampleBits: sample, failureProbability: effectiveBoundFailureProbability),
            leakedBits: 0, epsilonSecurity: epsilonSecurity, epsilonCorrectness: epsilonCorrectness)
        guard best >= 1 else {
            throw QKDError(
                parameter: "qubits",
                reason: "\(qubits) qubits (about \(Int(sifted)) sifted, \(sample) sampled) leave no secure key even "
                    + "without errors: the statistical margin is too wide; send more qubits")
        }
    }
}
