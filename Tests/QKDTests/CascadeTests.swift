@testable import QKD
import QSMTesting
import Testing

@Suite("Cascade")
struct CascadeTests {
    /// Efficiency over 200 frames at each error rate against issue 21's targets, which are stated for
    /// 10^5-bit frames (tools/bench qkd measures those, and 2^14 and 10^6 bits, in release builds). Here the
    /// frames are 2^14 bits to keep the debug build's run short: f is higher on short frames (the bench
    /// measures 1.066 / 1.058 / 1.068 / 1.091 at 2^14 bits), so each limit is the 10^5-bit target plus the
    /// short-frame allowance below; over 200 frames the mean f moves by about 0.003 (one standard deviation),
    /// so a schedule or engine that leaks 2% more fails. The old 14-pass schedule (variant (8)) measured
    /// 1.110 / 1.115 / 1.125 / 1.180 on 200 frames of 2^14 bits and fails at every rate.
    @Test(arguments: zip([0.01, 0.02, 0.05, 0.08], [1.045, 1.05, 1.07, 1.10]))
    func efficiencyIsBelowTheTarget(qber: Double, target: Double) throws {
        let bits = 1 << 14
        let allowance = qber == 0.01 ? 0.03 : 0.015
        var generator = SeededGenerator(seed: UInt64(qber * 1000))
        let errors = Int((qber * Double(bits)).rounded())
        var leaked = 0
        for _ in 0..<200 {
            let (alice, bob) = noisyPair(bits: bits, errors: errors, using: &generator)
            let result = try Cascade.reconcile(alice: alice, bob: bob, estimatedQBER: qber, using: &generator)
            #expect(result.corrected == alice)
            #expect(result.channelUses > Cascade.passCount)
            leaked += result.leakedBits
        }
        let efficiency = Double(leaked) / (200 * Double(bits) * FiniteKey.binaryEntropy(Double(errors) / Double(bits)))
        #expect(efficiency < target + allowance, "f = \(efficiency)")
        #expect(efficiency > 1.0, "f = \(efficiency) would beat the Shannon limit")
    }

    /// 1,000 frames at each error rate, every one corrected. An error pattern survives Cascade only if every
    /// block of every pass holds an even number of errors; each of the 14 passes of two blocks of n/2 hides
    /// a surviving pair with probability about 1/2, so a pair outlives them with probability about 2^-14
    /// even before the small-block passes: one failure in 4,000 frames points to a bug, not bad luck.
    @Test(arguments: [0.01, 0.02, 0.05, 0.08])
    func noFrameFailsInAThousand(qber: Double) throws {
        let bits = 2_000
        var generator = SeededGenerator(seed: 40 + UInt64(qber * 1000))
        let errors = Int((qber * Double(bits)).rounded())
        var failures = 0
        for _ in 0..<1_000 {
            let (alice, bob) = noisyPair(bits: bits, errors: errors, using: &generator)
            let result = try Cascade.reconcile(alice: alice, bob: bob, estimatedQBER: qber, using: &generator)
            if result.corrected != alice || result.correctedErrors != errors { failures += 1 }
        }
        #expect(failures == 0)
    }

    /// The schedule that runs: k1 = ⌈1/Q⌉, k2 = 3 k1, then n/2, 16 passes, clamped to [2, n].
    @Test func blockSizesFollowTheSchedule() {
        #expect(Cascade.blockSizes(qber: 0.02, keyBits: 100_000) == [50, 150] + Array(repeating: 50_000, count: 14))
        #expect(Cascade.blockSizes(qber: 0.03, keyBits: 100_000).prefix(2) == [34, 102])
        #expect(Cascade.blockSizes(qber: 0, keyBits: 1_000) == Array(repeating: 1_000, count: 2)
            + Array(repeating: 500, count: 14))
        #expect(Cascade.blockSizes(qber: 0.5, keyBits: 3) == [2, 3] + Array(repeating: 2, count: 14))
    }
}
