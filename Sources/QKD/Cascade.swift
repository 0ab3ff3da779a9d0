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
    /// The block size of each pass.
    public let blockSizes: [Int]
}

/// Cascade information reconciliation (Brassard and Salvail 1993), in the optimised form of
/// Martinez-Mateo, Pacher, Peev, Ciurana and Martin, "Demystifying the information reconciliation
/// protocol Cascade", Quantum Inf. Comput. 15 (2015): their variant (8), that is 14 passes with block
/// sizes 2^⌈α⌉, 2^⌈(α + 12)/2⌉, 4096 and then n/2 where α = log2(1/Q) - 1/2, and sub-block parity
/// reuse: every parity disclosed in any pass (top-level or inside a bisection) is remembered, kept
/// up to date as bits are corrected, and never asked again; a correction makes every remembered block
/// containing that bit change parity, and the smallest such block that turns odd is bisected next.
public enum Cascade {
    /// The number of passes.
    public static let passCount = 14

    /// The block size of each pass for an estimated error rate `qber`, before clamping to the key.
    public static func blockSizes(qber: Double, keyBits: Int) -> [Int] {
        let rate = min(max(qber, 1e-6), 0.5)
        let alpha = log2(1 / rate) - 0.5
        let firstTwo = [pow(2, alpha.rounded(.up)), pow(2, ((alpha + 12) / 2).rounded(.up))].map { Int($0) }
        return (0..<passCount).map { pass in
            switch pass {
            case 0, 1: max(2, firstTwo[pass])
            case 2: 4096
            default: max(2, keyBits / 2)
            }
        }
    }

    /// Corrects `bob` towards `alice` by public parity exchanges (simulated: Alice's answers are computed
    /// from `alice`, and each one is counted as leaked). `estimatedQBER` sets the block sizes; shuffles
    /// are drawn from `generator`.
    /// - Throws: `QKDError` when the keys differ in length, are empty, or the estimate is not in [0, 1/2].
    public static func reconcile(
        alice: BitString, bob: BitString, estimatedQBER: Double, using generator: inout some RandomNumberGenerator
    ) throws(QKDError) -> CascadeResult {
        guard alice.count == bob.count else {
            throw QKDError(
                parameter: "bob",
                reason: "has \(bob.count) bits but alice has \(alice.count); keys must match in length")
        }
        guard alice.count > 0 else { throw QKDError(parameter: "alice", reason: "the key to reconcile is empty") }
        guard estimatedQBER.isFinite, estimatedQBER >= 0, estimatedQBER <= 0.5 else {
            throw QKDError(parameter: "estimatedQBER", reason: "\(estimatedQBER) is not an error rate in [0, 1/2]")
        }
        let engine = CascadeEngine(alice: alice, bob: bob)
        let sizes = blockSizes(qber: estimatedQBER, keyBits: engine.paddedBits)
        var used: [Int] = []
        for (pass, size) in sizes.enumerated() {
            let limit = pass == 0 ? engine.keyBits : engine.paddedBits
            let blockSize = min(size, limit)
            used.append(blockSize)
            let shuffle = pass == 0 ? nil : WordShuffle(wordCount: engine.wordCount, using: &generator)
            engine.runPass(blockSize: blockSize, shuffle: shuffle)
        }
        return CascadeResult(
            corrected: engine.bobKey(), leakedBits: engine.leakedBits, correctedErrors: engine.corrections,
            blockSizes: used)
    }
}
