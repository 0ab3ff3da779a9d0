import Foundation
import QKD
import QSMTesting

/// The `qkd` suite: transmission and sifting rate, Cascade throughput, efficiency and channel uses at 1, 2,
/// 5 and 8% (10^5-bit frames for throughput, plus 2^14 bits to compare with Martinez-Mateo et al. and 10^6
/// bits), Toeplitz privacy amplification rate, and end-to-end exchanges of 10^6 qubits with standard and
/// with the default (efficient) BB84. The seeded generator stands in for the CSPRNG in the timed loops
/// (simulation use); the CSPRNG rate is printed too. Cascade and privacy amplification rates are per CPU
/// second of the benchmark's thread (wall time on a shared 2-core machine measures the neighbours);
/// transmission and sifting rates and the exchanges' milliseconds are wall time, from their reports.
enum QKDBench {
    static let rates = [0.01, 0.02, 0.05, 0.08]

    static func run(_ options: [String]) throws {
        var settings = Settings()
        try settings.parse(options)
        var generator = SeededGenerator(seed: 84)

        let seeded = try transmissionRate(qubits: settings.qubits, basisBias: nil, using: &generator)
        let standard = try transmissionRate(qubits: settings.qubits, basisBias: 0.5, using: &generator)
        var system = SystemRandomNumberGenerator()
        let secure = try transmissionRate(qubits: settings.qubits / 8, basisBias: nil, using: &system)
        print(String(
            format: "transmission+sifting: %.1f M qubits/s seeded (default options; standard BB84 %.1f), "
                + "%.1f M qubits/s system CSPRNG (%d qubits, 2%% noise)",
            seeded / 1e6, standard / 1e6, secure / 1e6, settings.qubits))

        var efficiencies: [Double: Double] = [:]
        var bits = 0
        var seconds = 0.0
        for (frame, runs) in [(100_000, settings.cascadeRuns), (1 << 14, 1_000), (1_000_000, 10)] {
            for qber in rates {
                let result = try cascade(qber: qber, bits: frame, runs: runs, using: &generator)
                if frame == 100_000 {
                    efficiencies[qber] = result.efficiency
                    bits += result.bits
                    seconds += result.seconds
                }
                print(String(
                    format: "cascade Q=%.0f%%: f=%.4f, %.1f Mbit/s, %.0f channel uses/frame, %d/%d frames corrected "
                        + "(%d bits)", qber * 100, result.efficiency, Double(result.bits) / result.seconds / 1e6,
                    result.channelUses, result.successes, runs, frame))
            }
        }
        let cascadeRate = Double(bits) / seconds / 1e6

        var paRate = 0.0
        for (input, runs) in [(100_000, settings.paRuns), (1_000_000, 2)] {
            let rate = try privacyAmplification(inputBits: input, outputBits: input / 2, runs: runs, using: &generator)
            if input == 100_000 { paRate = rate }
            print(String(format: "privacy amplification: %.1f Mbit/s (%d -> %d bits)", rate / 1e6, input, input / 2))
        }

        var standardFraction: [Double: Double] = [:]
        var keyPerQubit: [Double: Double] = [:]
        var siftedFraction = 0.0
        for (label, bias) in [("standard", 0.5), ("default", nil)] as [(String, Double?)] {
            for noise in rates {
                let parameters = BB84Parameters(qubits: 1_000_000, noise: noise, basisBias: bias)
                let report = try BB84.run(parameters: parameters, using: &generator).report
                if bias == nil {
                    keyPerQubit[noise] = Double(report.finalBits) / Double(report.qubitsSent)
                    if noise == 0.02 { siftedFraction = Double(report.siftedBits) / Double(report.qubitsSent) }
                } else {
                    standardFraction[noise] = report.secretFraction
                }
                print(String(
                    format: "bb84 10^6 qubits, noise %.0f%%, %@ (basis bias %.4f): %@; sifted %d, sample %d, QBER %.4f "
                        + "bound %.4f, f %.3f, final %d bits, %.4f per sifted bit, %.4f per qubit, %.1f ms",
                    noise * 100, label, report.basisBias, report.finalBits > 0 ? "completed" : "aborted",
                    report.siftedBits, report.sampleSize, report.qber, report.qberUpperBound, report.efficiency ?? 0,
                    report.finalBits, report.secretFraction, Double(report.finalBits) / Double(report.qubitsSent),
                    report.timings.total.seconds * 1000))
            }
        }
        print(String(
            format: "qkd: %.1f cascade %.1f f@1%%=%.3f f@2%%=%.3f f@5%%=%.3f f@8%%=%.3f sf@2%%=%.3f sf@5%%=%.3f "
                + "kpq@2%%=%.3f sifted=%.3f pa %.1f", seeded / 1e6, cascadeRate, efficiencies[0.01]!,
            efficiencies[0.02]!, efficiencies[0.05]!, efficiencies[0.08]!, standardFraction[0.02]!,
            standardFraction[0.05]!, keyPerQubit[0.02]!, siftedFraction, paRate / 1e6))
    }

    struct Settings {
        var qubits = 1 << 24
        var cascadeRuns = 200
        var paRuns = 20

        mutating func parse(_ options: [String]) throws {
            var rest = options[...]
            while let option = rest.popFirst() {
                guard let value = rest.popFirst(), let count = Int(value), count > 0 else {
                    throw BenchError("\(option) needs a positive count")
                }
                switch option {
                case "--qubits": qubits = count
                case "--cascade-runs": cascadeRuns = count
                case "--pa-runs": paRuns = count
                default: throw BenchError("unknown option \(option) (--qubits N, --cascade-runs N, --pa-runs N)")
                }
            }
        }
    }

    /// Qubits per second through transmission and sifting, from the report's stage timings (wall time:
    /// the stages cannot be timed apart in CPU time from outside). The threshold is set below the noise
    /// so the run stops after estimation.
    static func transmissionRate(
        qubits: Int, basisBias: Double?, using generator: inout some RandomNumberGenerator
    ) throws -> Double {
        let parameters = BB84Parameters(qubits: qubits, noise: 0.02, basisBias: basisBias, qberThreshold: 0.01)
        let report = try BB84.run(parameters: parameters, using: &generator).report
        return Double(qubits) / (report.timings.transmission + report.timings.sifting).seconds
    }

    static func cascade(qber: Double, bits: Int, runs: Int, using generator: inout SeededGenerator) throws
        -> (efficiency: Double, bits: Int, seconds: Double, successes: Int, channelUses: Double)
    {
        var leaked = 0
        var channelUses = 0
        var seconds = 0.0
        var successes = 0
        let errors = Int((qber * Double(bits)).rounded())
        for _ in 0..<runs {
            let alice = BitString(words: (0..<BitString.wordCount(bits)).map { _ in generator.next() }, count: bits)
            var bob = alice
            var flipped = 0
            while flipped < errors {
                let position = Int.random(in: 0..<bits, using: &generator)
                if alice[position] == bob[position] {
                    bob.flip(position)
                    flipped += 1
                }
            }
            let start = threadCPUSeconds()
            let result = try Cascade.reconcile(alice: alice, bob: bob, estimatedQBER: qber, using: &generator)
            seconds += threadCPUSeconds() - start
            leaked += result.leakedBits
            channelUses += result.channelUses
            if result.corrected == alice { successes += 1 }
        }
        let efficiency = Double(leaked) / (Double(runs * bits) * FiniteKey.binaryEntropy(Double(errors) / Double(bits)))
        return (efficiency, runs * bits, seconds, successes, Double(channelUses) / Double(runs))
    }

    /// Input bits hashed per second.
    static func privacyAmplification(
        inputBits: Int, outputBits: Int, runs: Int, using generator: inout SeededGenerator
    ) throws -> Double {
        let key = BitString(words: (0..<BitString.wordCount(inputBits)).map { _ in generator.next() }, count: inputBits)
        var seconds = 0.0
        var checksum = 0
        for _ in 0..<runs {
            let hash = try ToeplitzHash(inputBits: inputBits, outputBits: outputBits, using: &generator)
            let start = threadCPUSeconds()
            checksum &+= try hash.hash(key).popCount
            seconds += threadCPUSeconds() - start
        }
        guard checksum > 0 else { throw BenchError("privacy amplification produced only zeros") }
        return Double(inputBits * runs) / seconds
    }
}
