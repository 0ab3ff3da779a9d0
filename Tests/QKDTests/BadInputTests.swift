@testable import QKD
import QSMTesting
import Testing

@Suite("Bad input")
struct BadInputTests {
    /// Each bad parameter set and the parameter the error must name.
    static let cases: [(BB84Parameters, String)] = {
        let good = BB84Parameters(qubits: 100_000)
        func with(_ change: (inout BB84Parameters) -> Void) -> BB84Parameters {
            var parameters = good
            change(&parameters)
            return parameters
        }
        return [
            (with { $0.qubits = 0 }, "qubits"),
            (with { $0.qubits = -5 }, "qubits"),
            (with { $0.qubits = Int.max }, "qubits"),
            (with { $0.qubits = 1_000 }, "qubits"),
            (with { $0.noise = -0.1 }, "noise"),
            (with { $0.noise = 1.5 }, "noise"),
            (with { $0.noise = .nan }, "noise"),
            (with { $0.loss = 2 }, "loss"),
            (with { $0.loss = 1 }, "loss"),
            (with { $0.eavesdropping = -1 }, "eavesdropping"),
            (with { $0.sampleFraction = 0 }, "sampleFraction"),
            (with { $0.sampleFraction = 1 }, "sampleFraction"),
            (with { $0.basisBias = 0.4 }, "basisBias"),
            (with { $0.basisBias = 1 }, "basisBias"),
            (with { $0.basisBias = .nan }, "basisBias"),
            (with { $0.eavesdropperBasisBias = 1.5 }, "eavesdropperBasisBias"),
            (with { $0.expectedQBER = 0.6 }, "expectedQBER"),
            (with { $0.qberThreshold = 0 }, "qberThreshold"),
            (with { $0.qberThreshold = 0.7 }, "qberThreshold"),
            (with { $0.qberThreshold = .infinity }, "qberThreshold"),
            (with { $0.boundFailureProbability = 0 }, "boundFailureProbability"),
            (with { $0.epsilonSecurity = 0 }, "epsilonSecurity"),
            (with { $0.epsilonSecurity = 1 }, "epsilonSecurity"),
            (with { $0.epsilonCorrectness = -1 }, "epsilonCorrectness"),
            // Legal values that leave no key: the security cost exceeds every bit 10^5 qubits can give.
            (with { $0.epsilonSecurity = 1e-300; $0.epsilonCorrectness = 1e-300 }, "epsilonSecurity"),
            (
                // 1400 qubits against a 1496-bit cost: no basis bias can keep enough key bits.
                with { $0.qubits = 1_400; $0.epsilonSecurity = 1e-150; $0.epsilonCorrectness = 1e-150 },
                "epsilonSecurity"
            ),
        ]
    }()

    @Test func badParametersThrowNamingTheParameter() {
        var generator = SeededGenerator(seed: 30)
        for (parameters, name) in Self.cases {
            do {
                let outcome = try BB84.run(parameters: parameters, using: &generator)
                Issue.record("\(name): expected an error, got \(outcome.abortReason.map { "\($0)" } ?? "a key")")
            } catch {
                #expect(error.parameter == name, "\(error)")
                #expect(error.description.contains(name))
            }
        }
    }

    @Test func cascadeRefusesMismatchedOrEmptyKeysAndBadEstimates() {
        var generator = SeededGenerator(seed: 31)
        let key = BitString(count: 100)
        #expect(throws: QKDError.self) {
            try Cascade.reconcile(alice: key, bob: BitString(count: 99), estimatedQBER: 0.01, using: &generator)
        }
        #expect(throws: QKDError.self) {
            let empty = BitString(count: 0)
            return try Cascade.reconcile(alice: empty, bob: empty, estimatedQBER: 0.01, using: &generator)
        }
        for estimate in [-0.1, 0.6, .nan] {
            #expect(throws: QKDError.self) {
                try Cascade.reconcile(alice: key, bob: key, estimatedQBER: estimate, using: &generator)
            }
        }
    }

    @Test func toeplitzRefusesBadShapes() throws {
        var generator = SeededGenerator(seed: 32)
        for (n, l) in [(0, 1), (-3, 1), (10, 0), (10, 11), (10, -1)] {
            #expect(throws: QKDError.self) { try ToeplitzHash(inputBits: n, outputBits: l, using: &generator) }
        }
        #expect(throws: QKDError.self) { try ToeplitzHash(inputBits: 10, outputBits: 5, seed: BitString(count: 13)) }
        let hash = try ToeplitzHash(inputBits: 10, outputBits: 5, using: &generator)
        #expect(throws: QKDError.self) { try hash.hash(BitString(count: 11)) }
    }
}
