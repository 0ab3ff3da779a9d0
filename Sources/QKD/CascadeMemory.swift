internal import Foundation
import Synchronization

/// The memory of one Cascade run: every pass's node table (zeroed) and shuffled key copies, in two
/// blocks taken at the start of the run. A few blocks up to `retainedBytes` are kept between runs:
/// allocating and freeing a table per pass cost about a third of Cascade's time in page faults and
/// zeroing (perf, 10^5-bit frames), most of it for large-block passes whose tables are barely touched.
/// A run returns its node block zeroed again by clearing only the nodes it wrote (`touched`). Unchecked
/// Sendable: a block belongs to one engine from `take` to `give`, and to the lock in between.
final class CascadeMemory: @unchecked Sendable {
    /// Largest pair of blocks kept for reuse, in bytes: enough for 10^5-bit frames and more, so that the
    /// exchanges of a busy broker reuse memory, while a rare 10^7-bit run does not pin its tables.
    static let retainedBytes = 16 << 20
    /// Most blocks kept at once (exchanges run on a small pool of threads).
    static let retainedCount = 4

    private static let retained = Mutex<[CascadeMemory]>([])

    let nodes: UnsafeMutablePointer<UInt8>
    let nodeCapacity: Int
    let words: UnsafeMutablePointer<UInt64>
    let wordCapacity: Int
    /// Offsets of the node pairs written since the block was zeroed.
    var touched: [Int] = []

    private init(nodes nodeCount: Int, words wordCount: Int) {
        nodeCapacity = nodeCount
        wordCapacity = wordCount
        nodes = calloc(max(1, nodeCount), 1)!.bindMemory(to: UInt8.self, capacity: max(1, nodeCount))
        words = .allocate(capacity: max(1, wordCount))
    }

    deinit {
        free(nodes)
        words.deallocate()
    }

    private var bytes: Int { nodeCapacity + 8 * wordCapacity }

    /// Memory for `nodeCount` zeroed node bytes (plus one spare, as `touched` clears pairs) and
    /// `wordCount` words: a kept block when one is large enough, a new one otherwise.
    static func take(nodes nodeCount: Int, words wordCount: Int) -> CascadeMemory {
        let reused = retained.withLock { kept -> CascadeMemory? in
            guard let index = kept.firstIndex(where: { $0.nodeCapacity > nodeCount && $0.wordCapacity >= wordCount })
            else { return nil }
            return kept.remove(at: index)
        }
        return reused ?? CascadeMemory(nodes: nodeCount + 1, words: wordCount)
    }

    /// Zeroes what the run wrote and keeps the block for the next run, unless it is too large or enough
    /// are kept already (then it is freed).
    static func give(_ memory: CascadeMemory) {
        guard memory.bytes <= retainedBytes else { return }
        if memory.touched.count > memory.nodeCapacity / 64 {
            memory.nodes.update(repeating: 0, count: memory.nodeCapacity)
        } else {
            for offset in memory.touched {
                memory.nodes[offset] = 0
                memory.nodes[offset + 1] = 0
            }
        }
        memory.touched.removeAll(keepingCapacity: true)
        retained.withLock { kept in
            if kept.count < retainedCount { kept.append(memory) }
        }
    }
}

extension CascadeMemory {
    /// Frees every kept block (tests use it to compare a run on fresh memory with one on reused memory).
    static func releaseRetained() {
        retained.withLock { kept in kept.removeAll() }
    }

    /// How many blocks are kept now.
    static var retainedBlocks: Int { retained.withLock { $0.count } }
}
