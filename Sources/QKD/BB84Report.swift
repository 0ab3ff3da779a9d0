internal import Foundation

/// How long each stage of an exchange took; stages not reached are zero.
public struct BB84Timings: Sendable, Hashable {
    /// Preparing, sending, intercepting and measuring the qubits.
    public var transmission: Duration = .zero
    /// Discarding undetected qubits and mismatched bases.
    public var sifting: Duration = .zero
    /// Sampling, counting errors and bounding the QBER.
    public var estimation: Duration = .zero
    /// Cascade.
    public var reconciliation: Duration = .zero
    /// Comparing hashes of the reconciled keys.
    public var confirmation: Duration = .zero
    /// Toeplitz hashing to the final length.
    public var privacyAmplification: Duration = .zero

    /// The sum of all stages.
    public var total: Duration {
        transmission + sifting + estimation + reconciliation + confirmation + privacyAmplification
    }
}

/// The figures of every stage of one exchange. Figures of stages not reached are zero (nil for the
/// efficiency, which is undefined without errors).
public struct BB84Report: Sendable, Hashable {
    /// Qubits Alice sent.
    public var qubitsSent = 0
    /// Qubits Bob detected.
    public var qubitsReceived = 0
    /// Probability with which each party chose the key basis: 1/2 for standard BB84, more for efficient
    /// BB84 (chosen by `ExchangePlan` unless the parameters set it).
    public var basisBias = 0.5
    /// The QBER the basis bias and the sample were planned for.
    public var expectedQBER = 0.0
    /// Bits kept by sifting (detected, same basis), in both bases.
    public var siftedBits = 0
    /// Sifted bits disclosed and discarded for parameter estimation: a random sample of the sifted bits in
    /// standard BB84, every bit sifted in the test basis in efficient BB84.
    public var sampleSize = 0
    /// Disagreements in the sample.
    public var sampleErrors = 0
    /// The QBER estimate: sample errors over sample size.
    public var qber = 0.0
    /// The statistical margin µ added to the estimate.
    public var qberMargin = 0.0
    /// The upper confidence bound Q + µ (capped at 1) compared with the threshold.
    public var qberUpperBound = 0.0
    /// The abort threshold used.
    public var qberThreshold = 0.0
    /// Bits reconciled: sifted bits minus the sample (in efficient BB84, the bits sifted in the key basis).
    public var keyBits = 0
    /// Parity bits Cascade disclosed (leak_EC).
    public var leakedBits = 0
    /// Errors Cascade corrected.
    public var correctedErrors = 0
    /// The key's actual error rate: corrected errors over key bits.
    public var keyQBER = 0.0
    /// Cascade's block size in each pass.
    public var cascadeBlockSizes: [Int] = []
    /// Cascade's round trips on the public channel (`CascadeResult.channelUses`).
    public var cascadeChannelUses = 0
    /// Reconciliation efficiency f = leak / (n h(Q)) with Q the key's actual error rate; nil without errors.
    public var efficiency: Double?
    /// Bits of the confirmation hash compared (⌈log2(1/ε_cor)⌉).
    public var confirmationBits = 0
    /// The finite-key length before rounding (may be negative).
    public var secureLength = 0.0
    /// Bits in each final key.
    public var finalBits = 0
    /// Final bits per sifted bit.
    public var secretFraction = 0.0
    /// Time spent in each stage.
    public var timings = BB84Timings()

    /// Creates an empty report.
    public init() {}
}

extension BB84Report: CustomStringConvertible {
    /// The report as a few readable lines.
    public var description: String {
        [
            "qubits sent \(qubitsSent), received \(qubitsReceived), sifted \(siftedBits)",
            String(
                format: "basis bias %.4f%@, planned for QBER %.4f", basisBias,
                basisBias == 0.5 ? " (standard BB84)" : " (efficient BB84: key basis only, test basis estimates)",
                expectedQBER),
            String(
                format: "sample %d bits, %d errors: QBER %.4f + margin %.4f = bound %.4f (threshold %.4f)", sampleSize,
                sampleErrors, qber, qberMargin, qberUpperBound, qberThreshold),
            String(
                format: "reconciled %d bits: %d errors corrected, %d parity bits leaked in %d round trips, f = %@",
                keyBits, correctedErrors, leakedBits, cascadeChannelUses,
                efficiency.map { String(format: "%.4f", $0) } ?? "n/a"),
            String(
                format: "final %d bits (secure length %.1f), secret fraction %.4f", finalBits, secureLength,
                secretFraction),
            "time: transmission \(timings.transmission), sifting \(timings.sifting), estimation \(timings.estimation), "
                + "reconciliation \(timings.reconciliation), confirmation \(timings.confirmation), "
                + "privacy amplification \(timings.privacyAmplification)",
        ].joined(separator: "\n")
    }
}
