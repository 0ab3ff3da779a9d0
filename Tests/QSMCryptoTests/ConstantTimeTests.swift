import QSMCrypto
import QSMTesting
import Testing

/// ConstantTime.equal's answers, and that the timing test behind `tools/bench consttime` can see a leak.
/// Whether ConstantTime.equal itself leaks is the benchmark's measurement, not a unit test's: a timed
/// assertion on a loaded machine would fail by chance.
@Suite struct ConstantTimeTests {
    @Test func equalAnswersByContentAndLength() {
        let reference = [UInt8]((0..<64).map { UInt8($0) })
        func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            a.withUnsafeBytes { x in b.withUnsafeBytes { y in ConstantTime.equal(x, y) } }
        }
        #expect(equal(reference, reference))
        #expect(equal(reference, Array(reference)))
        for index in [0, 31, 63] {
            var other = reference
            other[index] ^= 0x01
            #expect(!equal(reference, other), "a difference in byte \(index)")
        }
        #expect(!equal(reference, Array(reference.dropLast())), "a shorter input")
        #expect(!equal(reference, reference + [0]), "a longer input")
        #expect(equal([], []))
        #expect(!equal([], [0]))
    }

    /// The positive control: the same t-test machinery on a comparison that returns at the first differing
    /// byte, with 4 KiB inputs, finds the leak by far (equal inputs take thousands of byte steps, a
    /// differing first byte one).
    @Test func theTimingTestFindsAnEarlyExitComparison() {
        let seed = UInt64.random(in: 0...UInt64(UInt32.max))
        let reference = [UInt8]((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var presented = reference
        let result = TimingLeakTest.run(samples: 5_000, seed: seed, prepare: { kind in
            presented[0] = kind == 0 ? reference[0] : reference[0] ^ 0x5A
        }) {
            reference.withUnsafeBytes { a in presented.withUnsafeBytes { b in Self.earlyExitEqual(a, b) } }
        }
        print("early-exit comparison: |t| = \(result.maxAbsT), means \(result.meanNanoseconds) ns, seed \(seed)")
        #expect(result.leaks && result.maxAbsT > 10 * TimingLeakTest.threshold, "|t| = \(result.maxAbsT) (seed \(seed))")
    }

    @Test func welchsTIsZeroForOneDistributionAndLargeForTwo() {
        let a = (0..<1000).map { Double($0 % 10) }
        #expect(TimingLeakTest.welch(a, a) == 0)
        #expect(abs(TimingLeakTest.welch(a, a.map { $0 + 5 })) > 30)
        #expect(TimingLeakTest.welch([1], [2, 3]) == 0)
    }

    @inline(never)
    static func earlyExitEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count where a[index] != b[index] { return false }
        return true
    }
}
