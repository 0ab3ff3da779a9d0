internal import Foundation

/// BB84 quantum key distribution, simulated end to end: transmission, sifting, parameter estimation,
/// Cascade reconciliation, key confirmation and Toeplitz privacy amplification to the finite-key length
/// of Tomamichel et al. (2012). Pure: no I/O, no global state.
public enum BB84 {
    /// Runs one exchange with randomness from `generator`. Real keys need a cryptographic generator (use
    /// `run(parameters:)`); pass a seeded one only for tests and reproducible simulations.
    /// - Throws: `QKDError` when a parameter is out of range or the parameters cannot yield any key.
    public static func run(
        parameters: BB84Parameters, using generator: inout some RandomNumberGenerator
    ) throws(QKDError) -> BB84Outcome {
        guard let outcome = try run(parameters: parameters, using: &generator, until: { false }) else {
            preconditionFailure("an exchange that is never cancelled finishes")
        }
        return outcome
    }

    /// Runs one exchange as `run(parameters:using:)` does, asking `isCancelled` between stages and within
    /// the long ones (Cascade's passes, the Toeplitz products): a run of ten million qubits takes seconds
    /// of CPU, which a caller who has gone should not cost.
    /// - Returns: nil when `isCancelled` returned true; the work done so far is dropped.
    /// - Throws: `QKDError` when a parameter is out of range or the parameters cannot yield any key.
    public static func run(
        parameters: BB84Parameters, using generator: inout some RandomNumberGenerator, until isCancelled: () -> Bool
    ) throws(QKDError) -> BB84Outcome? {
        try parameters.validate()
        let clock = ContinuousClock()
        var report = BB84Report()
        report.qubitsSent = parameters.qubits
        report.qberThreshold = parameters.qberThreshold

        let plan = ExchangePlan(for: parameters)
        report.basisBias = plan.basisBias
        report.expectedQBER = plan.expectedQBER
        var start = clock.now
        let raw = Transmission.run(
            qubits: parameters.qubits, noise: parameters.noise, loss: parameters.loss,
            eavesdropping: parameters.eavesdropping, basisBias: plan.basisBias,
            eavesdropperBasisBias: parameters.eavesdropperBasisBias ?? plan.basisBias, using: &generator)
        report.timings.transmission = clock.now - start
        report.qubitsReceived = raw.detectedCount
        if isCancelled() { return nil }

        let estimate: ParameterEstimation.Result
        let δ = parameters.effectiveBoundFailureProbability
        if plan.isBiased {
            start = clock.now
            let sifted = Sifting.split(raw)
            report.timings.sifting = clock.now - start
            report.siftedBits = sifted.key.alice.count + sifted.test.alice.count
            guard sifted.key.alice.count >= 1, sifted.test.alice.count >= 1 else {
                return .aborted(.tooFewSiftedBits(sifted: report.siftedBits), report: report)
            }
            start = clock.now
            estimate = ParameterEstimation.run(key: sifted.key, test: sifted.test, failureProbability: δ)
        } else {
            start = clock.now
            let sifted = Sifting.run(raw)
            report.timings.sifting = clock.now - start
            report.siftedBits = sifted.alice.count
            guard sifted.alice.count >= 2 else {
                return .aborted(.tooFewSiftedBits(sifted: sifted.alice.count), report: report)
            }
            start = clock.now
            let sampleSize = min(
                sifted.alice.count - 1, max(1, Int((Double(sifted.alice.count) * plan.sampleFraction).rounded())))
            estimate = ParameterEstimation.run(
                alice: sifted.alice, bob: sifted.bob, sampleSize: sampleSize, failureProbability: δ, using: &generator)
        }
        report.timings.estimation = clock.now - start
        if isCancelled() { return nil }
        report.sampleSize = estimate.sampleSize
        report.sampleErrors = estimate.sampleErrors
        report.qber = estimate.qber
        report.qberMargin = estimate.margin
        report.qberUpperBound = estimate.qberBound
        report.keyBits = estimate.aliceKey.count
        if estimate.qberBound > parameters.qberThreshold {
            return .aborted(
                .qberAboveThreshold(bound: estimate.qberBound, threshold: parameters.qberThreshold), report: report)
        }
        func secureLength(leaking leak: Int) -> Double {
            FiniteKey.secureLength(
                keyBits: estimate.aliceKey.count, qberBound: estimate.qberBound, leakedBits: leak,
                epsilonSecurity: parameters.epsilonSecurity, epsilonCorrectness: parameters.epsilonCorrectness)
        }
        // No reconciliation can help when even a leak-free one leaves no key.
        report.secureLength = secureLength(leaking: 0)
        guard report.secureLength >= 1 else {
            return .aborted(.noSecureKey(secureLength: report.secureLength), report: report)
        }

        start = clock.now
        let cascade: CascadeResult
        do {
            guard let reconciled = try Cascade.reconcile(
                alice: estimate.aliceKey, bob: estimate.bobKey, estimatedQBER: min(estimate.qber, 0.5),
                using: &generator, until: isCancelled)
            else { return nil }
            cascade = reconciled
        } catch {
            preconditionFailure("Cascade refused inputs the pipeline built: \(error)")
        }
        report.timings.reconciliation = clock.now - start
        let keyBits = estimate.aliceKey.count
        report.leakedBits = cascade.leakedBits
        report.correctedErrors = cascade.correctedErrors
        report.cascadeBlockSizes = cascade.blockSizes
        report.cascadeChannelUses = cascade.channelUses
        report.keyQBER = Double(cascade.correctedErrors) / Double(keyBits)
        if cascade.correctedErrors > 0 {
            report.efficiency =
                Double(cascade.leakedBits) / (Double(keyBits) * FiniteKey.binaryEntropy(report.keyQBER))
        }
        report.secureLength = secureLength(leaking: cascade.leakedBits)
        let finalBits = FiniteKey.finalLength(
            keyBits: keyBits, qberBound: estimate.qberBound, leakedBits: cascade.leakedBits,
            epsilonSecurity: parameters.epsilonSecurity, epsilonCorrectness: parameters.epsilonCorrectness)
        guard finalBits >= 1 else { return .aborted(.noSecureKey(secureLength: report.secureLength), report: report) }

        do {
            // Confirmation (Tomamichel et al.'s error verification): both hash their reconciled key with
            // the same random Toeplitz matrix of t = ⌈log2(1/ε_cor)⌉ rows; distinct keys collide with
            // probability 2^-t ≤ ε_cor. The t disclosed bits are the formula's log2(1/ε_cor) term.
            start = clock.now
            let tagBits = max(1, Int(log2(1 / parameters.epsilonCorrectness).rounded(.up)))
            report.confirmationBits = tagBits
            let confirmation = try ToeplitzHash(inputBits: keyBits, outputBits: tagBits, using: &generator)
            guard let aliceCheck = try confirmation.hash(estimate.aliceKey, until: isCancelled),
                  let bobCheck = try confirmation.hash(cascade.corrected, until: isCancelled)
            else { return nil }
            let match = aliceCheck == bobCheck
            report.timings.confirmation = clock.now - start
            guard match else { return .aborted(.confirmationFailed, report: report) }

            start = clock.now
            let amplification = try ToeplitzHash(inputBits: keyBits, outputBits: finalBits, using: &generator)
            guard let aliceFinal = try amplification.hash(estimate.aliceKey, until: isCancelled),
                  let bobFinal = try amplification.hash(cascade.corrected, until: isCancelled)
            else { return nil }
            report.timings.privacyAmplification = clock.now - start
            report.finalBits = finalBits
            report.secretFraction = Double(finalBits) / Double(report.siftedBits)
            return .completed(
                BB84Keys(alice: aliceFinal.bytes, bob: bobFinal.bytes, bitCount: finalBits), report: report)
        } catch {
            preconditionFailure("Toeplitz hashing refused lengths the pipeline checked: \(error)")
        }
    }

    /// Runs one exchange with the system's cryptographic random number generator: the way to make
    /// real keys.
    /// - Throws: `QKDError` when a parameter is out of range or the parameters cannot yield any key.
    public static func run(parameters: BB84Parameters) throws(QKDError) -> BB84Outcome {
        var generator = SystemRandomNumberGenerator()
        return try run(parameters: parameters, using: &generator)
    }
}
