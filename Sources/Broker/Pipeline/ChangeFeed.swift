import Foundation
import Synchronization

/// Tells watchers the log's head after each durable commit, so streaming replies (WatchDashboard,
/// WatchAlerts) wake only when something happened. A slow watcher sees only the newest head: the
/// buffer keeps one value, so no watcher can make the broker hold memory for it.
final class ChangeFeed: Sendable {
    /// Each watcher's continuation and the last head it was given: a head is given once, and never one
    /// older than what it has (a commit published just after a watcher subscribed at that head).
    private let watchers = Mutex<[Int: (continuation: AsyncStream<UInt64>.Continuation, last: UInt64)]>([:])
    private let nextID = Mutex(0)

    /// A stream of heads, starting with `current`; it ends when the consumer stops iterating.
    func subscribe(current: UInt64) -> AsyncStream<UInt64> {
        let id = nextID.withLock { value in
            defer { value += 1 }
            return value
        }
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        continuation.onTermination = { [weak self] _ in
            _ = self?.watchers.withLock { $0.removeValue(forKey: id) }
        }
        watchers.withLock { watchers in
            watchers[id] = (continuation, current)
            continuation.yield(current)
        }
        return stream
    }

    /// Announces a new head.
    func publish(_ head: UInt64) {
        watchers.withLock { watchers in
            for (id, watcher) in watchers where head > watcher.last {
                watchers[id]?.last = head
                watcher.continuation.yield(head)
            }
        }
    }

    /// Ends every stream (at shutdown).
    func finish() {
        for watcher in watchers.withLock({ Array($0.values) }) { watcher.continuation.finish() }
    }
}
