import Glibc

/// A dudect-style timing leak test (Reparaz, Balasch and Verbauwhede, "Dude, is my code constant time?",
/// 2017): an operation is timed many times on inputs of two classes, the class of each sample drawn at
/// random so that drift and noise fall on both alike, and Welch's t-test compares the two sets of timings,
/// whole and with their slow tails cropped at a few percentiles. A large |t| means the time depends on the
/// class: a leak. For benchmarks and positive controls, never for a timed unit test's pass or fail.
public enum TimingLeakTest {
    /// dudect's threshold: above it the timings of the two classes differ ("probably not constant time").
    public static let threshold = 4.5

    /// What one run found.
    public struct Result: Sendable {
        /// Samples measured in all (both classes).
        public let samples: Int
        /// The largest |t| over the uncropped set and every crop.
        public let maxAbsT: Double
        /// The crop (a percentile of all timings, 1 for none) at which |t| was largest.
        public let crop: Double
        /// Mean time of one call per class, in nanoseconds (uncropped).
        public let meanNanoseconds: (Double, Double)

        /// Whether the two classes' timings differ by more than ``TimingLeakTest/threshold``.
        public var leaks: Bool { maxAbsT > TimingLeakTest.threshold }
    }

    /// Percentiles at which the slow tail is cropped (1: none), as dudect crops measurements.
    static let crops: [Double] = [1, 0.99, 0.95, 0.9, 0.75, 0.5]

    /// Times `operation` `samples` times; before each sample (untimed) `prepare` sets up the input of the
    /// class drawn for it (0 or 1) from a generator seeded with `seed`.
    public static func run(
        samples: Int, seed: UInt64, prepare: (Int) -> Void, operation: () -> Bool
    ) -> Result {
        var generator = SeededGenerator(seed: seed)
        var timings: [[Double]] = [[], []]
        timings[0].reserveCapacity(samples / 2 + 1024)
        timings[1].reserveCapacity(samples / 2 + 1024)
        var sink = false
        var start = timespec()
        var end = timespec()
        for _ in 0..<samples {
            let kind = Int(generator.next() & 1)
            prepare(kind)
            clock_gettime(CLOCK_MONOTONIC, &start)
            let answer = operation()
            clock_gettime(CLOCK_MONOTONIC, &end)
            sink = sink != answer
            timings[kind].append(Double((end.tv_sec - start.tv_sec) * 1_000_000_000 + (end.tv_nsec - start.tv_nsec)))
        }
        withExtendedLifetime(sink) {}
        let sorted = (timings[0] + timings[1]).sorted()
        var best = (t: 0.0, crop: 1.0)
        for crop in crops {
            let limit = crop >= 1 ? Double.infinity : sorted[min(Int(Double(sorted.count) * crop), sorted.count - 1)]
            let t = abs(welch(timings[0].filter { $0 < limit }, timings[1].filter { $0 < limit }))
            if t > best.t { best = (t, crop) }
        }
        return Result(
            samples: samples, maxAbsT: best.t, crop: best.crop, meanNanoseconds: (mean(timings[0]), mean(timings[1])))
    }

    /// Welch's t statistic of two samples (0 when either has fewer than two values or both have no variance).
    public static func welch(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count > 1, b.count > 1 else { return 0 }
        let (ma, mb) = (mean(a), mean(b))
        let va = a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) } / Double(a.count - 1)
        let vb = b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) } / Double(b.count - 1)
        let spread = (va / Double(a.count) + vb / Double(b.count)).squareRoot()
        return spread > 0 ? (ma - mb) / spread : 0
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
