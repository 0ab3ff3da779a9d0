internal import Glibc
internal import NIOPosix
internal import Synchronization

/// Gives freed input buffers back to the system after a large drop. glibc keeps freed memory of its
/// per-thread arenas for reuse, so without this qsmd's resident size stays at the peak an attack drove it
/// to long after the attacker left (issue 16, item 3); `malloc_trim` returns the free pages.
final class MemoryReturn: Sendable {
    private struct State {
        var peak = 0
        var trimming = false
    }

    /// A drop of buffered input of at least this many bytes from its peak triggers a trim.
    let threshold: Int
    private let state = Mutex(State())

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module does not include malloc.h.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    init(threshold: Int = 16 << 20) {
        self.threshold = threshold
    }

    /// Notes the input buffered now; trims (off the event loops, one trim at a time) after a large drop.
    func observe(inputBytes: Int) {
        let trim = state.withLock { state -> Bool in
            state.peak = max(state.peak, inputBytes)
            guard !state.trimming, state.peak - inputBytes >= threshold else { return false }
            state.trimming = true
            state.peak = inputBytes
            return true
        }
        guard trim else { return }
        NIOThreadPool.singleton.submit { [self] _ in
            _ = Self.mallocTrim?(0)
            state.withLock { $0.trimming = false }
        }
    }
}
