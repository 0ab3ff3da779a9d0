internal import Foundation

/// What Cascade did: Bob's corrected key and what it cost.
public struct CascadeResult: Sendable {
    /// Bob's key after reconciliation; equal to Alice's unless Cascade failed (rare; confirmation catches it).
    public let corrected: BitString
    /// Parity bits disclosed on the public channel: every top-level block parity and every bisection
    /// parity that could not be reused.
    public let leakedBits: Int
    /// Bits Bob flipped; the number of errors when reconciliation succeeds.
    public let correctedErrors: Int
    /// The block size of each pass, in key bits (a shuffled pass spreads the same number of blocks over
    /// the padded key, so each still holds this many key bits on average).
    public let blockSizes: [Int]
    /// Round trips on the public channel if every bisection that can start at once runs in parallel:
    /// one for each pass's block parities and one per level of each wave of bisections.
    public let channelUses: Int
}

/// Cascade information reconciliation (Brassard and Salvail 1993) with the schedule Martinez-Mateo,
/// Pacher, Peev, Ciurana and Martin recommend in "Demystifying the information reconciliation protocol
/// Cascade", Quantum Inf. Comput. 15 (2015), arXiv 1407.3257: 16 passes, k1 = ⌈1/Q⌉, k2 = 3 k1 (their
/// variant (4) has 2 k1; 3 k1 leaks less with this engine, docs/bb84.md), then n/2, with sub-block
/// parity reuse: every parity disclosed in any pass (top-level or inside a bisection) is remembered,
/// kept up to date as bits are corrected, and never asked again; a correction makes every remembered
/// block containing that bit change parity, and the smallest such block that turns odd is bisected.
public enum Cascade {
    /// The number of passes.
    public static let passCount = 16

    /// The block size of each pass for an estimated error rate `qber` over `keyBits` bits, at least 2
    /// and at most the key.
    public static func blockSizes(qber: Double, keyBits: Int) -> [Int] {
        let rate = min(max(qber, 1e-6), 0.5)
        let first = Int((1 / rate).rounded(.up))
        return (0..<passCount).map { pass in
            let size =
                switch pass {
                case 0: first
                case 1: 3 * first
                default: keyBits / 2
                }
            return max(2, min(size, keyBits))
        }
    }

    /// Corrects `bob` towards `alice` by public parity exchanges (simulated: Alice's answers are computed
    /// from `alice`, and each one is counted as leaked). `estimatedQBER` sets the block sizes; shuffles
    /// are drawn from `generator`.
    /// - Throws: `QKDError` when the keys differ in length, are empty, or the estimate is not in [0, 1/2].
    public static func reconcile(
        alice: BitString, bob: BitString, estimatedQBER: Double, using generator: inout some RandomNumberGenerator
    ) throws(QKDError) -> CascadeResult {
        guard let result = try reconcile(alice: alice, bob: bob, estimatedQBER: estimatedQBER, using: &generator, until: { false })
        else { preconditionFailure("a reconciliation that is never cancelled finishes") }
        return result
    }

    /// `reconcile(alice:bob:estimatedQBER:using:)`, asking `isCancelled` before each pass; nil when it said so.
    static func reconcile(
        alice: BitString, bob: BitString, estimatedQBER: Double, using generator: inout some RandomNumberGenerator,
        until isCancelled: () -> Bool
    ) throws(QKDError) -> CascadeResult? {
        guard alice.count == bob.count else {
            throw QKDError(
                parameter: "bob",
                reason: "has \(bob.count) bits but alice has \(alice.count); keys must match in length")
        }
        guard alice.count > 0 else { throw QKDError(parameter: "alice", reason: "the key to reconcile is empty") }
        guard estimatedQBER.isFinite, estimatedQBER >= 0, estimatedQBER <= 0.5 else {
            throw QKDError(parameter: "estimatedQBER", reason: "\(estimatedQBER) is not an error rate in [0, 1/2]")
        }
        let sizes = blockSizes(qber: estimatedQBER, keyBits: alice.count)
        let engine = CascadeEngine(alice: alice, bob: bob, blockSizes: sizes)
        for pass in sizes.indices {
            if isCancelled() { return nil }
            engine.runPass(shuffle: pass == 0 ? nil : WordShuffle(wordCount: engine.wordCount, using: &generator))
        }
        return CascadeResult(
            corrected: engine.bobKey(), leakedBits: engine.leakedBits, correctedErrors: engine.corrections,
            blockSizes: sizes, channelUses: engine.channelUses)
    }
}
