internal import CLMDB
import Foundation
import Synchronization

/// What the writer has done since the log was opened: `events / commits` is the group-commit factor.
public struct WriterStatistics: Sendable, Hashable {
    /// Durable transactions committed.
    public var commits: UInt64
    /// Events appended.
    public var events: UInt64
    /// Commands (or `append` calls) whose events those transactions carried.
    public var appends: UInt64
    /// Time spent in write transactions, commit (fsync) included, in nanoseconds.
    public var commitNanoseconds: UInt64 = 0
    /// Time the writer spent deciding commands into batches, in nanoseconds.
    public var decideNanoseconds: UInt64 = 0
}

/// The write side of a read-write log: the writer lock, the durable head, and which writer owns the
/// log's transactions. A log has at most one writer at a time: the broker's, or the one `append` makes.
final class WriteSide: Sendable {
    private enum Owner {
        case none
        case claimed
        case attached(stop: @Sendable () -> Void)
        case closed
    }

    private struct State {
        var head: LogHead
        var owner: Owner = .none
        var statistics = WriterStatistics(commits: 0, events: 0, appends: 0)
        var lock: WriterLock?
    }

    private let state: Mutex<State>
    /// Made on first use, under its own lock: making it claims the log through `state`.
    private let appendWriterSlot = Mutex<LogWriter<AppendStage>?>(nil)

    init(lock: WriterLock, head: LogHead) {
        state = Mutex(State(head: head, lock: lock))
    }

    var durableHead: LogHead { state.withLock { $0.head } }
    var statistics: WriterStatistics { state.withLock { $0.statistics } }

    /// Takes the log's transactions for one writer; returns the durable head it starts from.
    func claim(path: String) throws(EventLogError) -> LogHead {
        let outcome = state.withLock { state -> Result<LogHead, EventLogError> in
            switch state.owner {
            case .none:
                state.owner = .claimed
                return .success(state.head)
            case .closed: return .failure(.closed(path: path))
            case .claimed, .attached: return .failure(.storage(path: path, detail: "the log already has a writer"))
            }
        }
        return try outcome.get()
    }

    /// Gives back a claim that never attached a writer (a one-off ``EventStore/append(_:)-batch`` commit).
    func unclaim() {
        state.withLock { state in
            if case .claimed = state.owner { state.owner = .none }
        }
    }

    func attach(stop: @escaping @Sendable () -> Void) {
        state.withLock { $0.owner = .attached(stop: stop) }
    }

    /// The writer stopped: the log takes no more writes, and other processes may open it for writing.
    func detach() {
        state.withLock { state in
            state.owner = .closed
            state.lock?.release()
            state.lock = nil
        }
    }

    /// Stops whichever writer owns the log (it commits what is queued) and releases the writer lock.
    func close() {
        let stop = state.withLock { state -> (@Sendable () -> Void)? in
            if case .attached(let stop) = state.owner { return stop }
            state.owner = .closed
            state.lock?.release()
            state.lock = nil
            return nil
        }
        stop?()
        detach()
    }

    /// The writer behind `EventStore.append`, made on first use.
    func appendWriter(for store: EventStore) throws(EventLogError) -> LogWriter<AppendStage> {
        try appendWriterSlot.withLock { (slot) throws(EventLogError) -> LogWriter<AppendStage> in
            if let existing = slot { return existing }
            let writer = try LogWriter(store: store, stage: AppendStage(clock: store.options.clock), pipelined: false)
            slot = writer
            return writer
        }
    }

    func decided(nanoseconds: UInt64) {
        state.withLock { $0.statistics.decideNanoseconds += nanoseconds }
    }

    func committed(_ head: LogHead, events: Int, commands: Int, nanoseconds: UInt64) {
        state.withLock { state in
            state.statistics.commitNanoseconds += nanoseconds
            state.head = head
            state.statistics.commits += 1
            state.statistics.events += UInt64(events)
            state.statistics.appends += UInt64(commands)
        }
    }
}

extension EventStore {
    /// Takes the log's transactions for a ``LogWriter``.
    func claimWriter() throws(EventLogError) -> LogHead {
        guard let writeSide else { throw .readOnly(path: path) }
        return try writeSide.claim(path: path)
    }

    func noteDecided(since start: ContinuousClock.Instant) {
        writeSide?.decided(nanoseconds: (ContinuousClock.now - start).nanoseconds)
    }

    func attachWriter(stop: @escaping @Sendable () -> Void) { writeSide?.attach(stop: stop) }

    func detachWriter() { writeSide?.detach() }

    /// Writes `batch` in one durable transaction (records, chain, indexes), growing the map when it is
    /// full. Only the log's writer calls this, from its committing thread.
    ///
    /// - Throws: `EventLogError` when the batch does not start at the durable head or the write fails;
    ///   nothing of the batch is written then.
    func commit(_ batch: RecordBatch, commands: Int) throws(EventLogError) -> LogHead {
        guard let writeSide else { throw .readOnly(path: path) }
        let head = writeSide.durableHead
        guard batch.base == head else {
            throw .conflict(path: path, expected: batch.base.position, found: head.position)
        }
        if let reason = batch.poisoned { throw .invalidEvent("the batch was not completed: \(reason)") }
        let snapshot = try batch.snapshot.map { (name, snapshot) throws(EventLogError) in
            (key: try Self.snapshotKey(name), value: Self.snapshotValue(snapshot))
        }
        let dbs = databases
        if batch.keepsTables && dbs.tableMarks == nil {
            throw .invalidEvent("the batch writes tables but the log was opened without them")
        }
        let started = ContinuousClock.now
        do {
            try environment.writeGrowingMap { txn in
                if batch.keepsTables, let marks = dbs.tableMarks {
                    let tables = TableTransaction(txn: txn, handles: dbs.tables, writable: true)
                    if let (names, image) = batch.replacement {
                        for name in names {
                            guard let dbi = dbs.tables[name] else { continue }
                            try check(mdb_drop(txn.handle, dbi, 0), "mdb_drop")
                            for row in image.rows(in: name) {
                                try tables.put(TableRow(table: name, key: row.key, value: row.value))
                            }
                        }
                    }
                    for row in batch.rows { try tables.put(row) }
                    try Self.writeTablesPosition(batch.head.position, layout: options.tablesLayout, marks: marks, txn: txn)
                }
                if let snapshot {
                    try snapshot.key.withUnsafeBytes { key in
                        try snapshot.value.withUnsafeBytes { try txn.put(dbs.snapshots, key: key, value: $0) }
                    }
                }
                for entry in batch.entries {
                    try Keys.position(entry.position).withUnsafeBytes { key in
                        try entry.record.withUnsafeBytes { try txn.put(dbs.events, key: key, value: $0, flags: MDB_APPEND) }
                        try entry.hash.withUnsafeBytes { try txn.put(dbs.chain, key: key, value: $0, flags: MDB_APPEND) }
                        if !entry.actor.isEmpty {
                            try Array(entry.actor.utf8).withUnsafeBytes { try txn.put(dbs.byActor, key: $0, value: key) }
                        }
                        try Keys.type(entry.type).withUnsafeBytes { try txn.put(dbs.byType, key: $0, value: key) }
                    }
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
        writeSide.committed(
            batch.head, events: batch.count, commands: commands, nanoseconds: (ContinuousClock.now - started).nanoseconds)
        return batch.head
    }
}

/// `EventStore.append`'s stage: each call's events, in order, at the caller's time or the log's clock.
final class AppendStage: WriterStage, @unchecked Sendable {
    /// One `append` call waiting for its positions.
    final class Job: @unchecked Sendable {
        let events: [NewEvent]
        let recordedAtMicros: Int64?
        let continuation: CheckedContinuation<[UInt64], any Error>
        // Written on the deciding thread, read on the committing thread after the hand-over.
        var positions: Result<[UInt64], EventLogError> = .success([])

        init(events: [NewEvent], recordedAtMicros: Int64?, continuation: CheckedContinuation<[UInt64], any Error>) {
            self.events = events
            self.recordedAtMicros = recordedAtMicros
            self.continuation = continuation
        }
    }

    private let clock: @Sendable () -> Int64

    init(clock: @escaping @Sendable () -> Int64) { self.clock = clock }

    func decide(_ commands: [Job], into batch: inout RecordBatch, closing: Bool) {
        let now = clock()
        for job in commands {
            let mark = batch.mark
            do {
                var positions: [UInt64] = []
                positions.reserveCapacity(job.events.count)
                for event in job.events {
                    positions.append(try batch.append(event, at: job.recordedAtMicros ?? now).position)
                }
                job.positions = .success(positions)
            } catch {
                batch.rollBack(to: mark)
                job.positions = .failure(error)
            }
        }
    }

    func answer(_ commands: [Job], outcome: Result<Committed, EventLogError>) {
        for job in commands {
            switch outcome {
            case .success: job.continuation.resume(with: job.positions.mapError { $0 as any Error })
            case .failure(let error): job.continuation.resume(throwing: error)
            }
        }
    }

    func rollBack(to head: LogHead) {}
}

extension LogWriter<AppendStage> {
    /// Appends `events` and waits until they are durable.
    func append(_ events: [NewEvent], recordedAtMicros: Int64?) async throws(EventLogError) -> [UInt64] {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let job = AppendStage.Job(events: events, recordedAtMicros: recordedAtMicros, continuation: continuation)
                if !submit(job) { continuation.resume(throwing: EventLogError.closed(path: "")) }
            }
        } catch let error as EventLogError {
            if case .closed = error { throw .closed(path: storePath) }
            throw error
        } catch {
            throw .storage(path: storePath, detail: "\(error)")
        }
    }
}
