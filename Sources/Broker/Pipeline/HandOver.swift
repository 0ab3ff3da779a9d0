import Foundation

/// A bounded queue between two threads of their own (never Swift's cooperative pool): `put` waits while
/// `capacity` items wait, `take` while none do. Either side may cancel, which wakes both.
final class HandOver<Item>: @unchecked Sendable {
    // @unchecked: every stored property is read and written under `condition`.
    private let condition = NSCondition()
    private var items: [Item] = []
    private var finished = false
    private var cancelled = false
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Queues `item`, waiting for room; false when the hand-over was cancelled (the item is dropped).
    func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// No more items will come: `take` returns nil once the queue is empty.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops both sides: `put` returns false and `take` nil from now on.
    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// The next item, waiting for one; nil when finished and empty, or cancelled.
    func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished && !cancelled { condition.wait() }
        guard !cancelled, !items.isEmpty else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }
}
