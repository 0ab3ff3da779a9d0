public import EventLog
import Foundation
import NIOCore
import PostgresNIO

extension PostgresLogStore {
    /// Appends `events` and returns their positions once committed. Concurrent callers share one
    /// statement (group commit); when another writer moved the head, the batch is rebuilt on the new head
    /// and tried again, since plain appends decide nothing from the log's state.
    @discardableResult
    public func append(_ events: [NewEvent], recordedAtMicros: Int64?) async throws(EventLogError) -> [UInt64] {
        guard mode == .readWrite else { throw .readOnly(path: location) }
        guard !events.isEmpty else { return [] }
        for event in events { try event.validate() }
        return try await appender.append(events, recordedAtMicros: recordedAtMicros, into: self)
    }

    /// Inserts `batch`'s records in one statement if the head is still `batch.base`.
    ///
    /// The statement inserts only when the base row holds the base hash and no row follows it, and
    /// positions are the primary key: a writer that lost the race gets ``EventLogError/conflict(path:expected:found:)`` and nothing
    /// of its batch is written.
    public func append(_ batch: RecordBatch) async throws(EventLogError) -> LogHead {
        guard mode == .readWrite else { throw .readOnly(path: location) }
        let entries = try batch.recordsOnly()
        guard !entries.isEmpty else { return batch.base }
        let inserted: Int
        do {
            inserted = try await insert(entries, after: batch.base)
        } catch {
            if PostgresFailure.sqlState(error) == "23505" {
                throw .conflict(path: location, expected: batch.base.position, found: try await head().position)
            }
            throw PostgresFailure.map(error, location: location)
        }
        guard inserted == entries.count else {
            throw .conflict(path: location, expected: batch.base.position, found: try await head().position)
        }
        return batch.head
    }

    private func insert(_ entries: [RecordBatch.Entry], after base: LogHead) async throws -> Int {
        let positions = entries.map { Int64($0.position) }
        let records = entries.map { ByteBuffer(bytes: $0.record) }
        let chains = entries.map { ByteBuffer(bytes: $0.hash) }
        let types = entries.map { Int32(truncatingIfNeeded: $0.type) }
        let actors = entries.map(\.actor)
        let basePosition = Int64(base.position)
        let baseHash = ByteBuffer(bytes: base.hash)
        let rows = try await connection.query(
            """
            INSERT INTO events (position, record, chain, type, actor)
            SELECT * FROM unnest(\(positions)::int8[], \(records)::bytea[], \(chains)::bytea[], \(types)::int4[], \(actors)::text[])
            WHERE NOT EXISTS (SELECT 1 FROM events WHERE position > \(basePosition))
              AND (\(basePosition) = 0 OR EXISTS (SELECT 1 FROM events WHERE position = \(basePosition) AND chain = \(baseHash)))
            RETURNING position
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }
}

/// Collects concurrent `append` calls into one batch per statement: while one batch is on its way to
/// the server, the calls that arrive wait and go together in the next.
actor GroupAppender {
    private struct Job {
        let events: [NewEvent]
        let recordedAtMicros: Int64?
        let continuation: CheckedContinuation<[UInt64], any Error>
    }

    private let clock: @Sendable () -> Int64
    private var pending: [Job] = []
    private var draining = false
    private var closed = false
    /// The head after this process's last commit; nil until read, and after a failure.
    private var head: LogHead?
    /// Most events in one statement (PostgreSQL takes at most 65,535 parameters, but arrays are one each;
    /// this bounds the statement's size).
    private let maxEvents = 8192

    init(clock: @escaping @Sendable () -> Int64) { self.clock = clock }

    func close() { closed = true }

    func append(_ events: [NewEvent], recordedAtMicros: Int64?, into store: PostgresLogStore)
        async throws(EventLogError) -> [UInt64]
    {
        guard !closed else { throw .closed(path: store.location) }
        do {
            return try await withCheckedThrowingContinuation { continuation in
                pending.append(Job(events: events, recordedAtMicros: recordedAtMicros, continuation: continuation))
                if !draining {
                    draining = true
                    Task { await self.drain(store) }
                }
            }
        } catch let error as EventLogError {
            throw error
        } catch {
            throw .storage(path: store.location, detail: "\(error)")
        }
    }

    private func drain(_ store: PostgresLogStore) async {
        while !pending.isEmpty {
            var jobs: [Job] = []
            var count = 0
            while let job = pending.first, jobs.isEmpty || count + job.events.count <= maxEvents {
                jobs.append(pending.removeFirst())
                count += job.events.count
            }
            await commit(jobs, store)
        }
        draining = false
    }

    private func commit(_ jobs: [Job], _ store: PostgresLogStore) async {
        var attempts = 0
        while true {
            attempts += 1
            do {
                let base: LogHead
                if let head { base = head } else { base = try await store.head() }
                let now = clock()
                var batch = RecordBatch(after: base)
                var outcomes: [Result<[UInt64], EventLogError>] = []
                for job in jobs {
                    let mark = batch.mark
                    do {
                        var positions: [UInt64] = []
                        for event in job.events {
                            positions.append(try batch.append(event, at: job.recordedAtMicros ?? now).position)
                        }
                        outcomes.append(.success(positions))
                    } catch {
                        batch.rollBack(to: mark)
                        outcomes.append(.failure(error))
                    }
                }
                head = try await store.append(batch)
                for (job, outcome) in zip(jobs, outcomes) {
                    job.continuation.resume(with: outcome.mapError { $0 as any Error })
                }
                return
            } catch {
                head = nil
                // Another writer got there first: the events decide nothing, so they go on the new head.
                if case EventLogError.conflict = error, attempts < 100 { continue }
                for job in jobs { job.continuation.resume(throwing: error) }
                return
            }
        }
    }
}
