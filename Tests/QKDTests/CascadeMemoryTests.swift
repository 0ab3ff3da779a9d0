@testable import QKD
import QSMTesting
import Testing

@Suite("Cascade's reused memory", .serialized)
struct CascadeMemoryTests {
    /// A frame reconciled on a block another frame used (and left with known parities) gives exactly
    /// what it gives on fresh memory: the same corrections, leak and round trips. A node the clearing
    /// missed would hand the second frame a parity it never asked for. A few errors in the first frame
    /// clear node by node; many clear the whole block. (With the bisection's nodes left uncleared, the
    /// second run loops on parities that contradict its key: the time limit turns that into a failure.)
    @Test(.timeLimit(.minutes(1)), arguments: [300, 8_000])
    func aRunOnReusedMemoryEqualsARunOnFreshMemory(dirtyErrors: Int) throws {
        var generator = SeededGenerator(seed: 77)
        func frame(bits: Int, errors: Int) -> (BitString, BitString) {
            let alice = BitString(words: (0..<BitString.wordCount(bits)).map { _ in generator.next() }, count: bits)
            var bob = alice
            var flipped = Set<Int>()
            while flipped.count < errors { flipped.insert(Int.random(in: 0..<bits, using: &generator)) }
            for position in flipped { bob.flip(position) }
            return (alice, bob)
        }
        let (dirtyAlice, dirtyBob) = frame(bits: 100_000, errors: dirtyErrors)
        let (alice, bob) = frame(bits: 100_000, errors: 2_000)

        CascadeMemory.releaseRetained()
        var shuffles = SeededGenerator(seed: 78)
        let fresh = try Cascade.reconcile(alice: alice, bob: bob, estimatedQBER: 0.02, using: &shuffles)
        #expect(CascadeMemory.retainedBlocks == 1)

        CascadeMemory.releaseRetained()
        var other = SeededGenerator(seed: 79)
        // The same estimate as the clean frame, so the same layout and the block is reused.
        _ = try Cascade.reconcile(alice: dirtyAlice, bob: dirtyBob, estimatedQBER: 0.02, using: &other)
        #expect(CascadeMemory.retainedBlocks == 1)
        shuffles = SeededGenerator(seed: 78)
        let reused = try Cascade.reconcile(alice: alice, bob: bob, estimatedQBER: 0.02, using: &shuffles)

        #expect(fresh.corrected == alice && reused.corrected == alice)
        #expect(reused.leakedBits == fresh.leakedBits)
        #expect(reused.channelUses == fresh.channelUses)
        #expect(reused.correctedErrors == fresh.correctedErrors)
    }
}
