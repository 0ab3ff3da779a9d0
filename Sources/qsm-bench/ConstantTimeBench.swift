import Foundation
import QSMCrypto
import QSMTesting

/// The `consttime` suite: a dudect-style timing test of ``ConstantTime/equal(_:_:)``, the comparison every
/// tag, MAC and token check goes through. Inputs of one class are equal, of the other differ in their first
/// byte (where an early-exit comparison returns at once); the class of each sample is drawn at random and
/// Welch's t-test compares the two sets of timings. The same test first runs on an early-exit comparison
/// as a positive control: it must find that leak, or the run proves nothing. Options: `--samples N`
/// (default 1,000,000 each), `--bytes B` (default 4,096), `--seed S` (default from the clock, printed).
enum ConstantTimeBench {
    static func run(_ options: [String]) throws {
        func value(_ name: String) -> UInt64? {
            guard let index = options.firstIndex(of: name), index + 1 < options.count else { return nil }
            return UInt64(options[index + 1].replacingOccurrences(of: ",", with: ""))
        }
        let samples = Int(value("--samples") ?? 1_000_000)
        let length = max(Int(value("--bytes") ?? 4096), 1)
        let seed = value("--seed") ?? UInt64(Date().timeIntervalSince1970 * 1000)
        print("consttime: \(samples) samples each, \(length) bytes, seed \(seed) (rerun with --seed \(seed))")

        let reference = [UInt8]((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var presented = reference
        let first = reference[0]
        // Both classes use the same buffers; only the first byte changes, untimed, before each sample.
        let prepare = { (kind: Int) in presented[0] = kind == 0 ? first : first ^ 0x5A }

        let control = TimingLeakTest.run(samples: samples, seed: seed, prepare: prepare) {
            reference.withUnsafeBytes { a in presented.withUnsafeBytes { b in earlyExitEqual(a, b) } }
        }
        report("early-exit control", control)
        let measured = TimingLeakTest.run(samples: samples, seed: seed &+ 1, prepare: prepare) {
            reference.withUnsafeBytes { a in presented.withUnsafeBytes { b in ConstantTime.equal(a, b) } }
        }
        report("ConstantTime.equal", measured)

        let verdict: String
        switch (control.leaks, measured.leaks) {
        case (false, _): verdict = "INCONCLUSIVE (the control's leak was not found)"
        case (true, false): verdict = "no leak found"
        case (true, true): verdict = "LEAK"
        }
        print(String(
            format: "consttime: ConstantTime.equal |t| = %.2f over %d samples of %d bytes (threshold %.1f; early-exit control |t| = %.1f): %@",
            measured.maxAbsT, samples, length, TimingLeakTest.threshold, control.maxAbsT, verdict))
        if verdict != "no leak found" { exit(1) }
    }

    private static func report(_ name: String, _ result: TimingLeakTest.Result) {
        print(String(
            format: "  %@: |t| = %.2f (crop %.2f); mean %.1f ns equal, %.1f ns differing first byte", name, result.maxAbsT,
            result.crop, result.meanNanoseconds.0, result.meanNanoseconds.1))
    }

    /// A naive comparison that returns at the first differing byte: what the timing test must catch.
    @inline(never)
    static func earlyExitEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count where a[index] != b[index] { return false }
        return true
    }
}
