internal import Foundation

/// One Cascade pass: the shuffled copies of both keys and what is known about its blocks.
struct CascadePass {
    let blockSize: Int
    /// Positions the blocks cover: the key length in the first pass, the padded length after.
    let limit: Int
    /// Heap-numbered node slots per block (root 1, children 2i and 2i + 1).
    let nodesPerBlock: Int
    let shuffle: WordShuffle?
    let alice: UnsafeMutablePointer<UInt64>
    let bob: UnsafeMutablePointer<UInt64>
    /// Per node: 0 unknown, else 2 | (Alice's parity XOR Bob's current parity).
    let nodes: UnsafeMutablePointer<UInt8>
    /// Where `nodes` lies in the run's node memory.
    let nodeOffset: Int

    @inline(__always) func position(of x: Int) -> Int { shuffle?.forward(x) ?? x }
    @inline(__always) func origin(of t: Int) -> Int { shuffle?.backward(t) ?? t }
}

/// The state of one Cascade run. Keys are padded with zero bits (equal on both sides, so never in
/// error) to a multiple of 4096 for the word shuffles. Not thread-safe; lives for one `reconcile`, and
/// hands its memory back (`CascadeMemory`) when it goes.
final class CascadeEngine {
    let keyBits: Int
    let paddedBits: Int
    let wordCount: Int
    private(set) var leakedBits = 0
    private(set) var corrections = 0
    /// Round trips on the public channel in this engine's order: one for a pass's block parities, then one
    /// per parity asked in a bisection, since each answer decides which half is asked about next.
    private(set) var channelUses = 0
    private var passes: [CascadePass] = []
    private let scratch: UnsafeMutablePointer<UInt64>
    /// Pending (pass, position) pairs whose path may hold an odd block.
    private var pending: [Int] = []

    /// An engine for `alice` and `bob` that will run one pass per entry of `blockSizes` (in key bits).
    init(alice: BitString, bob: BitString, blockSizes: [Int]) {
        keyBits = alice.count
        wordCount = (BitString.wordCount(keyBits) + 63) & ~63
        paddedBits = wordCount * 64
        // Each pass's blocks and node table, laid out in one block of memory taken up front.
        var layouts: [PassLayout] = []
        var nodeTotal = 0
        for (pass, size) in blockSizes.enumerated() {
            let limit = pass == 0 ? keyBits : paddedBits
            // Shuffled passes cover the key padded with zeros; cutting the padded length into as many
            // blocks as the key alone would have keeps the padding from costing extra parities.
            let keyBlocks = (keyBits + size - 1) / size
            let blockSize = pass == 0 ? size : (paddedBits + keyBlocks - 1) / keyBlocks
            let blocks = (limit + blockSize - 1) / blockSize
            var span = 1
            while span < blockSize { span <<= 1 }
            layouts.append(PassLayout(
                blockSize: blockSize, limit: limit, blocks: blocks, nodesPerBlock: 2 * span, nodeOffset: nodeTotal))
            nodeTotal += blocks * 2 * span
        }
        self.layouts = layouts
        // Pass 0 holds both keys in their own order; its Bob copy is the key being corrected. Every
        // later pass has its own shuffled pair.
        memory = CascadeMemory.take(nodes: nodeTotal, words: 2 * wordCount * max(1, blockSizes.count) + wordCount)
        scratch = memory.words + 2 * wordCount * max(1, blockSizes.count)
        scratch.update(repeating: 0, count: wordCount)
        baseAlice = memory.words
        baseBob = memory.words + wordCount
        baseAlice.update(repeating: 0, count: wordCount)
        baseBob.update(repeating: 0, count: wordCount)
        alice.words.withUnsafeBufferPointer { baseAlice.update(from: $0.baseAddress!, count: $0.count) }
        bob.words.withUnsafeBufferPointer { baseBob.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Where one pass's blocks and nodes lie.
    private struct PassLayout {
        let blockSize: Int
        let limit: Int
        let blocks: Int
        let nodesPerBlock: Int
        let nodeOffset: Int
    }

    private let layouts: [PassLayout]
    private let memory: CascadeMemory
    private let baseAlice: UnsafeMutablePointer<UInt64>
    private let baseBob: UnsafeMutablePointer<UInt64>

    deinit {
        CascadeMemory.give(memory)
    }

    /// Bob's key as it stands.
    func bobKey() -> BitString {
        let words = Array(UnsafeBufferPointer(start: baseBob, count: BitString.wordCount(keyBits)))
        return BitString(words: words, count: keyBits)
    }

    /// Runs the next pass: shuffles (unless first), discloses every block parity, bisects the odd
    /// blocks and cascades each correction through every pass so far.
    func runPass(shuffle: WordShuffle?) {
        let index = passes.count
        let layout = layouts[index]
        let nodes = memory.nodes + layout.nodeOffset
        var alice = baseAlice
        var bob = baseBob
        if let shuffle {
            alice = memory.words + 2 * wordCount * index
            bob = alice + wordCount
            shuffle.apply(baseAlice, to: alice, scratch: scratch)
            shuffle.apply(baseBob, to: bob, scratch: scratch)
        }
        let pass = CascadePass(
            blockSize: layout.blockSize, limit: layout.limit, nodesPerBlock: layout.nodesPerBlock, shuffle: shuffle,
            alice: alice, bob: bob, nodes: nodes, nodeOffset: layout.nodeOffset)
        passes.append(pass)
        let (blockSize, limit, nodesPerBlock) = (layout.blockSize, layout.limit, layout.nodesPerBlock)
        for block in 0..<layout.blocks {
            let start = block * blockSize
            let end = min(start + blockSize, limit)
            let odd = BitOps.parity(alice, start, end) != BitOps.parity(bob, start, end)
            nodes[block * nodesPerBlock + 1] = odd ? 3 : 2
            memory.touched.append(layout.nodeOffset + block * nodesPerBlock + 1)
            leakedBits += 1
        }
        channelUses += 1
        // Depth first: each odd block is bisected and its correction cascaded before the next block, so a
        // block that a cascaded correction already fixed costs nothing (this leaks less than bisecting
        // all odd blocks of a pass in parallel, at the price of more round trips).
        for block in 0..<layout.blocks where nodes[block * nodesPerBlock + 1] & 1 == 1 {
            pending.append(index << 40 | pass.origin(of: block * blockSize))
            drain()
        }
    }

    /// Finds the error in an odd node: asks for the parity of the left half unless already known, and
    /// descends into the odd half. Returns the position (in this pass's order) of the wrong bit and the
    /// number of parities asked.
    private func bisect(
        _ pass: CascadePass, block: Int, node: Int, start: Int, end: Int
    ) -> (position: Int, asked: Int) {
        var asked = 0
        var node = node
        var start = start
        var end = end
        let base = block * pass.nodesPerBlock
        while end - start > 1 {
            let middle = start + (end - start) / 2
            let left = base + 2 * node
            if pass.nodes[left] == 0 {
                let odd = BitOps.parity(pass.alice, start, middle) != BitOps.parity(pass.bob, start, middle)
                leakedBits += 1
                asked += 1
                pass.nodes[left] = odd ? 3 : 2
                pass.nodes[left + 1] = odd ? 2 : 3
                memory.touched.append(pass.nodeOffset + left)
            }
            if pass.nodes[left] & 1 == 1 {
                node = 2 * node
                end = middle
            } else {
                node = 2 * node + 1
                start = middle
            }
        }
        return (start, asked)
    }

    /// Flips Bob's bit `x` (in key order) in every pass, flips the known parity of every remembered
    /// block that contains it, and queues the passes where one of those blocks turned odd.
    private func correct(_ x: Int) {
        corrections += 1
        for (index, pass) in passes.enumerated() {
            let t = pass.position(of: x)
            pass.bob[t >> 6] ^= 1 << UInt64(t & 63)
            let block = t / pass.blockSize
            var start = block * pass.blockSize
            var end = min(start + pass.blockSize, pass.limit)
            let base = block * pass.nodesPerBlock
            var node = 1
            var odd = false
            while true {
                let state = pass.nodes[base + node]
                if state == 0 { break }
                pass.nodes[base + node] = state ^ 1
                if state & 1 == 0 { odd = true }
                if end - start <= 1 { break }
                let middle = start + (end - start) / 2
                if t < middle {
                    node = 2 * node
                    end = middle
                } else {
                    node = 2 * node + 1
                    start = middle
                }
            }
            if odd { pending.append(index << 40 | x) }
        }
    }

    /// Bisects, for each queued (pass, bit), the smallest remembered odd block on the bit's path, until
    /// no remembered block anywhere is odd; the latest correction's consequences first.
    private func drain() {
        while let entry = pending.popLast() {
            channelUses += resolve(entry)
        }
    }

    /// Bisects the smallest remembered odd block on the path of one queued (pass, bit), if one is still
    /// odd, and corrects the bit found. Returns the number of parities asked.
    private func resolve(_ entry: Int) -> Int {
        let pass = passes[entry >> 40]
        let t = pass.position(of: entry & (1 << 40 - 1))
        let block = t / pass.blockSize
        var start = block * pass.blockSize
        var end = min(start + pass.blockSize, pass.limit)
        let base = block * pass.nodesPerBlock
        var node = 1
        var found: (node: Int, start: Int, end: Int)?
        while true {
            let state = pass.nodes[base + node]
            if state == 0 { break }
            if state & 1 == 1 { found = (node, start, end) }
            if end - start <= 1 { break }
            let middle = start + (end - start) / 2
            if t < middle {
                node = 2 * node
                end = middle
            } else {
                node = 2 * node + 1
                start = middle
            }
        }
        guard let found else { return 0 }
        let (position, asked) = bisect(pass, block: block, node: found.node, start: found.start, end: found.end)
        correct(pass.origin(of: position))
        return asked
    }
}
