/// Both parties' final keys. Equal unless the confirmation hash collided (probability at most ε_cor).
public struct BB84Keys: Sendable, Hashable {
    /// Alice's key, `bitCount` bits, bit i in bit i % 8 of byte i / 8 (the last byte zero-padded).
    public let alice: [UInt8]
    /// Bob's key, in the same layout.
    public let bob: [UInt8]
    /// The number of key bits.
    public let bitCount: Int
}

/// Why an exchange stopped without a key.
public enum BB84AbortReason: Sendable, Hashable, CustomStringConvertible {
    /// The QBER's upper confidence bound exceeds the threshold: too much noise, or an eavesdropper.
    case qberAboveThreshold(bound: Double, threshold: Double)
    /// Too few bits survived sifting to sample and keep a key.
    case tooFewSiftedBits(sifted: Int)
    /// The finite-key length is below one bit once errors, leakage and the security cost are paid.
    case noSecureKey(secureLength: Double)
    /// The hashes of the reconciled keys differ: reconciliation left errors.
    case confirmationFailed

    /// A sentence saying why, for logs and reports.
    public var description: String {
        switch self {
        case .qberAboveThreshold(let bound, let threshold):
            "QBER upper bound \(bound) exceeds the threshold \(threshold): possible eavesdropping"
        case .tooFewSiftedBits(let sifted): "only \(sifted) sifted bits: too few to sample and keep a key"
        case .noSecureKey(let length): "the finite-key secure length is \(length) bits: no secret key can be kept"
        case .confirmationFailed: "the confirmation hashes of the reconciled keys differ"
        }
    }
}

/// The result of an exchange: keys and a report, or the reason for aborting and a report.
public enum BB84Outcome: Sendable, Hashable {
    /// Alice and Bob hold equal secret keys.
    case completed(BB84Keys, report: BB84Report)
    /// The exchange stopped; the report covers the stages reached.
    case aborted(BB84AbortReason, report: BB84Report)

    /// The report, whether the exchange completed or not.
    public var report: BB84Report {
        switch self {
        case .completed(_, let report), .aborted(_, let report): report
        }
    }

    /// The keys, when the exchange completed.
    public var keys: BB84Keys? {
        if case .completed(let keys, _) = self { return keys }
        return nil
    }

    /// The reason, when the exchange aborted.
    public var abortReason: BB84AbortReason? {
        if case .aborted(let reason, _) = self { return reason }
        return nil
    }
}
