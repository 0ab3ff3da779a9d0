import Broker
import Foundation
import Testing

/// EstablishKey's basisBias reaches BB84: standard BB84 sifts about half the detected qubits, a key basis
/// chosen with probability p sifts about p² + (1 - p)², and the default (the exchange's own choice) sifts
/// more than standard BB84; a bias that leaves too few test-basis bits for these qubits is refused.
@Suite("Key exchanges: basis bias")
struct BasisBiasTests {
    @Test func theBiasSetsTheSiftedFraction() async throws {
        let test = try TestBroker()
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        _ = try await broker.enrol("bob", caller: Peers.bob)
        func siftedFraction(_ bias: Double?) async throws -> Double {
            let report = try await broker.establishKey(
                token: alice, peer: "bob", options: KeyExchangeOptions(qubits: 200_000, basisBias: bias),
                caller: Peers.alice)
            return Double(report.sifted) / Double(report.qubitsSent)
        }
        // 200,000 qubits: the fraction's standard deviation is about 0.0011, so ±0.01 is over 8 sigma.
        let standard = try await siftedFraction(0.5)
        #expect(abs(standard - 0.5) < 0.01, "standard BB84 sifted \(standard)")
        let biased = try await siftedFraction(0.75)
        #expect(abs(biased - (0.5625 + 0.0625)) < 0.01, "p = 0.75 sifted \(biased)")
        let chosen = try await siftedFraction(nil)
        #expect(chosen > standard + 0.1, "the default chose a bias: sifted \(chosen)")
        // A bias that leaves too few test-basis bits for a finite-key bound is refused before it runs.
        await #expect(throws: BrokerError.self) { _ = try await siftedFraction(0.995) }
        await broker.close()
    }
}
