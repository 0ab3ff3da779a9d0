import Foundation
import Synchronization

/// Tells watchers the log's head after each durable commit, so streaming replies (WatchDashboard,
/// WatchAlerts) wake only when something happened. A slow watcher sees only the newest head: the
/// buffer keeps one value, so no watcher can make the broker hold memory for it.
final class ChangeFeed: Sendable {
    private let watchers = Mutex<[Int: AsyncStream<UInt64>.Continuation]>([:])
    private let nextID = Mutex(0)

    /// A stream of heads, starting with `current`; it ends when the consumer stops iterating.
    func subscribe(current: UInt64) -> AsyncStream<UInt64> {
        let id = nextID.withLock { value in
            defer { value += 1 }
            return value
        }
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        continuation.yield(current)
        continuation.onTermination = { [weak self] _ in
            _ = self?.watchers.withLock { $0.removeValue(forKey: id) }
        }
        watchers.withLock { $0[id] = continuation }
        return stream
    }

    /// Announces a new head.
    func publish(_ head: UInt64) {
        for continuation in watchers.withLock({ Array($0.values) }) { continuation.yield(head) }
    }

    /// Ends every stream (at shutdown).
    func finish() {
        for continuation in watchers.withLock({ Array($0.values) }) { continuation.finish() }
    }
}
