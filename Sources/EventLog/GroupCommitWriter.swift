internal import CLMDB
import Foundation

/// The log's single writer: a dedicated thread that takes every append waiting, commits them all in one
/// LMDB transaction (one fsync), and only then resumes their callers.
///
/// LMDB write transactions are bound to the thread that began them, so they never meet Swift
/// concurrency: callers hand their events over through a condition-guarded queue.
final class GroupCommitWriter: @unchecked Sendable {
    private struct Job {
        let events: [NewEvent]
        /// The caller's timestamp for these events, or nil for the log's clock.
        let recordedAtMicros: Int64?
        let continuation: CheckedContinuation<[UInt64], any Error>
    }

    private let environment: LMDBEnvironment
    private let databases: Databases
    private let path: String
    private let options: EventStore.Options
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Job] = []
    private var stopping = false
    // How many appends the previous commit carried: the writer waits briefly for as many again.
    private var lastBatchAppends = 0
    private var stopped = false
    private var currentHead: LogHead
    private var statistics = WriterStatistics(commits: 0, events: 0, appends: 0)
    private var lock: WriterLock?
    private let finished = DispatchSemaphore(value: 0)

    init(
        environment: LMDBEnvironment, databases: Databases, path: String, head: LogHead, lock: WriterLock,
        options: EventStore.Options
    ) {
        self.environment = environment
        self.databases = databases
        self.path = path
        self.currentHead = head
        self.lock = lock
        self.options = options
        let thread = Thread { [self] in run() }
        thread.name = "qsm.eventlog.writer"
        thread.start()
    }

    /// The head as of the last durable commit.
    var head: LogHead {
        condition.lock()
        defer { condition.unlock() }
        return currentHead
    }

    /// Commits and events since the log was opened.
    var stats: WriterStatistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }

    /// Queues `events` and waits until they are durable.
    func submit(_ events: [NewEvent], recordedAtMicros: Int64?) async throws(EventLogError) -> [UInt64] {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                condition.lock()
                if stopping {
                    condition.unlock()
                    continuation.resume(throwing: EventLogError.closed(path: path))
                    return
                }
                queue.append(Job(events: events, recordedAtMicros: recordedAtMicros, continuation: continuation))
                condition.signal()
                condition.unlock()
            }
        } catch {
            throw EventStore.mapped(error, path: path)
        }
    }

    /// Commits what is queued, stops the thread and releases the writer lock. Idempotent.
    func stop() {
        condition.lock()
        let alreadyStopping = stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if !alreadyStopping { finished.wait() }
    }

    private func run() {
        while let jobs = nextBatch() {
            let outcome = Result { () throws(EventLogError) -> [[UInt64]] in try commit(jobs.map { ($0.events, $0.recordedAtMicros) }) }
            switch outcome {
            case .success(let positions):
                for (job, assigned) in zip(jobs, positions) { job.continuation.resume(returning: assigned) }
            case .failure(let error):
                for job in jobs { job.continuation.resume(throwing: error) }
            }
        }
        condition.lock()
        lock?.release()
        lock = nil
        stopped = true
        condition.unlock()
        finished.signal()
    }

    /// Waits for work; returns every waiting job up to the batch limit, or nil once stopped and drained.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        if queue.isEmpty { return nil }
        // Callers resumed by the previous commit are still coming back with their next append: wait a
        // moment (at most `commitDelay`) for as many as that commit carried, so they share one fsync
        // instead of splitting into a small commit and a large one. A lone caller never waits.
        if queue.count < lastBatchAppends && options.commitDelay > .zero && !stopping {
            let deadline = Date(timeIntervalSinceNow: options.commitDelay.seconds)
            while queue.count < lastBatchAppends && !stopping && condition.wait(until: deadline) {}
        }
        var taken = 0
        var count = 0
        for job in queue {
            if taken > 0 && count + job.events.count > options.maxEventsPerCommit { break }
            taken += 1
            count += job.events.count
        }
        let batch = Array(queue.prefix(taken))
        queue.removeFirst(taken)
        lastBatchAppends = taken
        return batch
    }

    /// Encodes, chains and commits `batches` in one transaction; returns each batch's positions.
    private func commit(_ batches: [(events: [NewEvent], recordedAtMicros: Int64?)]) throws(EventLogError)
        -> [[UInt64]]
    {
        let head = self.head
        let clockNow = options.clock()
        // Times never go backwards: a caller's time below the last one recorded is raised to it.
        var now = head.lastRecordedAtMicros
        var position = head.position
        var hash = head.hash
        var records: [(position: UInt64, record: Data, hash: Data, event: NewEvent)] = []
        var assigned: [[UInt64]] = []
        do {
            for (events, requested) in batches {
                now = max(requested ?? clockNow, now)
                var positions: [UInt64] = []
                positions.reserveCapacity(events.count)
                for event in events {
                    position += 1
                    let record = try RecordEncoder.encode(event, position: position, recordedAtMicros: now)
                    hash = HashChain.next(previous: hash, position: position, record: record)
                    records.append((position, record, hash, event))
                    positions.append(position)
                }
                assigned.append(positions)
            }
        } catch {
            throw .invalidEvent("cannot encode the record header: \(error)")
        }
        try write(records)
        condition.lock()
        currentHead = LogHead(position: position, hash: hash, lastRecordedAtMicros: now)
        statistics.commits += 1
        statistics.events += UInt64(records.count)
        statistics.appends += UInt64(batches.count)
        condition.unlock()
        return assigned
    }

    /// Writes the records in one transaction, growing the map and retrying when it is full.
    private func write(_ records: [(position: UInt64, record: Data, hash: Data, event: NewEvent)])
        throws(EventLogError)
    {
        let dbs = databases
        do {
            try environment.writeGrowingMap { txn in
                for entry in records {
                    let key = Keys.position(entry.position)
                    try key.withUnsafeBytes { keyBytes in
                        try entry.record.withUnsafeBytes {
                            try txn.put(dbs.events, key: keyBytes, value: $0, flags: MDB_APPEND)
                        }
                        try entry.hash.withUnsafeBytes {
                            try txn.put(dbs.chain, key: keyBytes, value: $0, flags: MDB_APPEND)
                        }
                        if !entry.event.actor.isEmpty {
                            try Array(entry.event.actor.utf8).withUnsafeBytes {
                                try txn.put(dbs.byActor, key: $0, value: keyBytes)
                            }
                        }
                        try Keys.type(entry.event.type).withUnsafeBytes {
                            try txn.put(dbs.byType, key: $0, value: keyBytes)
                        }
                    }
                }
            }
        } catch {
            throw EventStore.mapped(error, path: path)
        }
    }
}

/// What the writer has done since the log was opened: `events / commits` is the group-commit factor.
public struct WriterStatistics: Sendable, Hashable {
    /// Durable transactions committed.
    public var commits: UInt64
    /// Events appended.
    public var events: UInt64
    /// `append` calls served.
    public var appends: UInt64
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
