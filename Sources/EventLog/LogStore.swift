public import Foundation

/// What the broker and the offline tools need of an event log, whichever engine holds it: LMDB
/// (``EventStore``, the embedded default) or PostgreSQL (module EventLogPostgres).
///
/// Both hold the same bytes: records as ``RecordBatch`` encodes them and the chain of ``HashChain``, so a
/// log copied from one to the other verifies to the same head hash. The writer's tables and snapshots
/// (``TableRow``, ``Snapshot``) are not part of this seam: on PostgreSQL each qsmd keeps its read models
/// in a local LMDB store fed from the shared log.
public protocol LogStore: AnyObject, Sendable {
    /// Where the log lives, for messages: a directory, or a URL without any password.
    var location: String { get }
    /// Format version, log id and creation time.
    var meta: LogMeta { get }

    /// The last position and chain hash as of now.
    func head() async throws(EventLogError) -> LogHead

    /// Appends `events` atomically, in order, and returns their positions once they are durable.
    /// Positions and times are assigned by the log (`recordedAtMicros` nil takes its clock).
    @discardableResult
    func append(_ events: [NewEvent], recordedAtMicros: Int64?) async throws(EventLogError) -> [UInt64]

    /// Writes `batch`'s records in one transaction if the log's head is still `batch.base`.
    ///
    /// - Throws: ``EventLogError/conflict(path:expected:found:)`` when another writer moved the head
    ///   first (nothing of the batch is written: re-read the tail, rebuild the batch, and retry).
    func append(_ batch: RecordBatch) async throws(EventLogError) -> LogHead

    /// Up to `limit` events from `position` on, in order, from one consistent snapshot.
    func read(from position: UInt64, limit: Int) async throws(EventLogError) -> [StoredEvent]

    /// Positions of the events whose actor is `actor`, ascending, after `after`, at most `limit`.
    func positions(actor: String, after: UInt64, limit: Int) async throws(EventLogError) -> [UInt64]

    /// Positions of the events of type `type`, ascending, after `after`, at most `limit`.
    func positions(type: UInt32, after: UInt64, limit: Int) async throws(EventLogError) -> [UInt64]

    /// The highest position of an event of type `type`, or nil when there is none.
    func lastPosition(type: UInt32) async throws(EventLogError) -> UInt64?

    /// The chain hash h(position) (h(0) for 0), or nil past the head.
    func chainHash(at position: UInt64) async throws(EventLogError) -> Data?

    /// Recomputes the chain from `first` and compares it with the stored hashes, positions and times,
    /// stopping at the first bad position (see ``EventStore/verify(from:progress:visit:)``).
    func verify(
        from first: UInt64, progress: ((UInt64, UInt64) -> Void)?, visit: ((RecordHeader, Data) -> Void)?
    ) async throws(EventLogError) -> VerificationReport

    /// Stops appending; later appends fail with ``EventLogError/closed(path:)``.
    func close() async
}

// Only conveniences whose names EventStore does not have synchronously: in an async context Swift
// prefers an async overload, which would take calls on a concrete EventStore away from its own methods.
extension LogStore {
    /// Appends `events` at the log's clock.
    @_disfavoredOverload
    @discardableResult
    public func append(_ events: [NewEvent]) async throws(EventLogError) -> [UInt64] {
        try await append(events, recordedAtMicros: nil)
    }
}

extension EventStore: LogStore {
    /// The log's directory.
    public var location: String { path }

    /// Writes `batch`'s records (and, for the broker's own writer, nothing else: tables and snapshots go
    /// through ``LogWriter``) in one durable transaction if the head is still `batch.base`. Used to copy
    /// a log record for record; refused while another writer (the broker's, or `append`'s) owns the log.
    public func append(_ batch: RecordBatch) throws(EventLogError) -> LogHead {
        guard let writeSide else { throw .readOnly(path: path) }
        _ = try batch.recordsOnly()
        _ = try writeSide.claim(path: path)
        defer { writeSide.unclaim() }
        guard !batch.isEmpty else { return writeSide.durableHead }
        return try commit(batch, commands: 1)
    }
}
