internal import CLMDB
public import Foundation

extension EventStore {
    /// The event at `position`, or nil if the log is shorter.
    public func event(at position: UInt64) throws(EventLogError) -> StoredEvent? {
        try read(from: position, limit: 1).first
    }

    /// Up to `limit` events from `position` on, in order, from one consistent snapshot.
    public func read(from position: UInt64, limit: Int) throws(EventLogError) -> [StoredEvent] {
        var result: [StoredEvent] = []
        result.reserveCapacity(min(limit, 4096))
        try forEach(from: position) { event in
            result.append(event)
            return result.count < limit
        }
        return result
    }

    /// The events in `range`, in order.
    public func read(_ range: ClosedRange<UInt64>) throws(EventLogError) -> [StoredEvent] {
        let count = range.upperBound - range.lowerBound
        return try read(from: range.lowerBound, limit: count >= UInt64(Int.max) ? Int.max : Int(count) + 1)
    }

    /// Calls `body` with each event from `position` on, in order, within one read transaction (a
    /// consistent snapshot), until it returns false or the log ends. `body` must not block for long:
    /// it holds a reader slot.
    public func forEach(from position: UInt64, _ body: (StoredEvent) throws -> Bool) throws(EventLogError) {
        let dbs = databases
        do {
            try environment.read { txn in
                try txn.withCursor(dbs.events) { cursor in
                    var entry = try Keys.position(max(position, 1)).withUnsafeBytes {
                        try cursor.get(MDB_SET_RANGE, key: $0)
                    }
                    while let current = entry {
                        let event = StoredEvent(position: try Keys.decodePosition(current.key), record: Data(current.value))
                        guard try body(event) else { return }
                        entry = try cursor.get(MDB_NEXT)
                    }
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    /// Events from `position` on, read in chunks of `chunkSize`, each chunk from its own short read
    /// transaction, so a consumer may await between events without pinning old pages.
    public func events(from position: UInt64 = 1, chunkSize: Int = 4096) -> EventChunks {
        EventChunks(log: self, start: max(position, 1), chunkSize: max(chunkSize, 1))
    }

    /// Positions of the events whose actor is `actor`, ascending, after `after`, at most `limit`.
    public func positions(actor: String, after: UInt64 = 0, limit: Int = .max) throws(EventLogError) -> [UInt64] {
        try indexPositions(databases.byActor, key: Array(actor.utf8), after: after, limit: limit)
    }

    /// Positions of the events of type `type`, ascending, after `after`, at most `limit`.
    public func positions(type: UInt32, after: UInt64 = 0, limit: Int = .max) throws(EventLogError) -> [UInt64] {
        try indexPositions(databases.byType, key: Keys.type(type), after: after, limit: limit)
    }

    /// The chain hash h(position), or nil past the head.
    public func chainHash(at position: UInt64) throws(EventLogError) -> Data? {
        if position == 0 { return HashChain.genesis }
        let dbs = databases
        do {
            return try environment.read { txn in
                try Keys.position(position).withUnsafeBytes { try txn.get(dbs.chain, key: $0).map { Data($0) } }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    /// Sizes of the log on disk and in memory.
    public func storageStats() throws(EventLogError) -> StorageStats {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb")
        return StorageStats(mapSize: environment.mapSize, fileSize: (attributes?[.size] as? Int) ?? 0)
    }

    /// The highest position of an event of type `type`, or nil when there is none: one index lookup,
    /// where `positions(type:)` would read every entry to find the last.
    public func lastPosition(type: UInt32) throws(EventLogError) -> UInt64? {
        let key = Keys.type(type)
        do {
            return try environment.read { txn in
                try txn.withCursor(databases.byType) { cursor -> UInt64? in
                    let found = try key.withUnsafeBytes { k in try cursor.get(MDB_SET_KEY, key: k) }
                    guard found != nil, let last = try cursor.get(MDB_LAST_DUP) else { return nil }
                    return try Keys.decodePosition(last.value)
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    private func indexPositions(_ dbi: MDB_dbi, key: [UInt8], after: UInt64, limit: Int)
        throws(EventLogError) -> [UInt64]
    {
        guard !key.isEmpty, limit > 0 else { return [] }
        var result: [UInt64] = []
        do {
            try environment.read { txn in
                try txn.withCursor(dbi) { cursor in
                    let found = try key.withUnsafeBytes { k in
                        try Keys.position(after &+ 1).withUnsafeBytes { v in
                            try cursor.getBoth(MDB_GET_BOTH_RANGE, key: k, value: v)
                        }
                    }
                    guard found != nil else { return }
                    var entry = found
                    while let current = entry, result.count < limit {
                        result.append(try Keys.decodePosition(current.value))
                        entry = try cursor.get(MDB_NEXT_DUP)
                    }
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
        return result
    }
}

/// Sizes of a log's storage.
public struct StorageStats: Sendable, Hashable {
    /// Bytes of address space LMDB maps; grows when the log fills it.
    public let mapSize: Int
    /// Bytes of data.mdb on disk.
    public let fileSize: Int
}

/// A forward sequence of events read in chunks; see `EventStore.events(from:chunkSize:)`.
public struct EventChunks: Sequence, Sendable {
    let log: EventStore
    let start: UInt64
    let chunkSize: Int

    public func makeIterator() -> Iterator { Iterator(log: log, nextPosition: start, chunkSize: chunkSize) }

    /// Reads the next chunk when the current one runs out. A read error ends the iteration and is
    /// kept in `error`.
    public struct Iterator: IteratorProtocol {
        let log: EventStore
        var nextPosition: UInt64
        let chunkSize: Int
        var buffer: [StoredEvent] = []
        var index = 0
        var finished = false
        /// The error that ended the iteration early, if any.
        public private(set) var error: EventLogError?

        init(log: EventStore, nextPosition: UInt64, chunkSize: Int) {
            self.log = log
            self.nextPosition = nextPosition
            self.chunkSize = chunkSize
        }

        public mutating func next() -> StoredEvent? {
            if index == buffer.count {
                guard !finished else { return nil }
                do {
                    buffer = try log.read(from: nextPosition, limit: chunkSize)
                } catch {
                    self.error = error
                    buffer = []
                }
                index = 0
                if buffer.count < chunkSize { finished = true }
                guard let last = buffer.last else { return nil }
                nextPosition = last.position + 1
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}
