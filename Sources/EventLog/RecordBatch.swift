public import Foundation

/// The records of one write transaction, as the log's one writer builds them: each event gets its
/// position and time here and nowhere else, is encoded into its record once, and extends the hash chain.
///
/// A batch starts after a head (the durable one, or the end of the batch the writer is still committing)
/// and is handed to ``EventStore/commit(_:)`` whole: either every record in it becomes durable or none.
public struct RecordBatch: Sendable {
    /// One record, ready to write: its position, bytes, chain hash, and the fields the indexes keep.
    public struct Entry: Sendable {
        public let position: UInt64
        public let record: Data
        public let hash: Data
        public let type: UInt32
        public let actor: String
    }

    /// The head the batch starts after.
    public let base: LogHead
    /// The head once every record so far is durable.
    public private(set) var head: LogHead
    private(set) var entries: [Entry] = []
    /// Why the batch must not commit, when its builder could not complete it.
    private(set) var poisoned: String?
    /// A snapshot to save in the same transaction, so it never describes events that are not durable.
    private(set) var snapshot: (name: String, snapshot: Snapshot)?
    /// Rows of the writer's tables, written in the same transaction as the records they come from.
    private(set) var rows: [TableRow] = []
    /// Whether the batch's commit records that the tables reflect its head.
    private(set) var keepsTables = false
    /// Tables to empty and fill with an image's rows before `rows` are written (a rebuild's swap).
    private(set) var replacement: (names: [String], image: TableImage)?

    /// An empty batch after `base`.
    public init(after base: LogHead) {
        self.base = base
        head = base
    }

    /// Records in the batch.
    public var count: Int { entries.count }
    /// Whether the batch holds no record.
    public var isEmpty: Bool { entries.isEmpty }
    /// Whether committing the batch writes anything (records, rows, a snapshot) or must fail.
    var needsTransaction: Bool {
        !entries.isEmpty || !rows.isEmpty || snapshot != nil || replacement != nil || poisoned != nil
    }
    /// The position the next appended event gets.
    public var nextPosition: UInt64 { head.position + 1 }

    /// Marks the batch as one that must fail at commit (nothing of it is written), when its builder could
    /// not finish it consistently; the writer then rolls its stage back as after any failed commit.
    public mutating func poison(_ reason: String) {
        if poisoned == nil { poisoned = reason }
    }

    /// Saves `snapshot` under `name` in the batch's transaction (replacing an earlier one of the batch).
    public mutating func attachSnapshot(_ snapshot: Snapshot, named name: String) {
        self.snapshot = (name, snapshot)
    }

    /// Writes `row` in the batch's transaction, and records at commit that the tables reflect the
    /// batch's head.
    public mutating func write(_ row: TableRow) {
        rows.append(row)
        keepsTables = true
    }

    /// Records at commit that the writer's tables reflect the batch's head (for a batch whose events
    /// wrote no row).
    public mutating func keepTables() {
        keepsTables = true
    }

    /// Empties the tables `names` and fills them with `image`'s rows in the batch's transaction, before
    /// the batch's own rows.
    public mutating func replaceTables(_ names: [String], with image: TableImage) {
        replacement = (names, image)
        keepsTables = true
    }

    /// A point in the batch to return to: see ``rollBack(to:)``.
    public struct Mark: Sendable {
        let count: Int
        let rows: Int
        let head: LogHead
    }

    /// The batch as it is now.
    public var mark: Mark { Mark(count: entries.count, rows: rows.count, head: head) }

    /// Drops every record and row appended since `mark` (a command whose events cannot all be appended
    /// leaves none behind).
    public mutating func rollBack(to mark: Mark) {
        entries.removeLast(entries.count - mark.count)
        rows.removeLast(rows.count - mark.rows)
        head = mark.head
    }

    /// The batch's records, for a store that keeps nothing else (``LogStore``): refuses a batch that
    /// must not commit or that carries the LMDB writer's tables or a snapshot.
    public func recordsOnly() throws(EventLogError) -> [Entry] {
        if let poisoned { throw .invalidEvent("the batch was not completed: \(poisoned)") }
        guard rows.isEmpty, snapshot == nil, replacement == nil, !keepsTables else {
            throw .invalidEvent("the batch carries table rows or a snapshot, which only the LMDB writer keeps")
        }
        return entries
    }

    /// Appends a record read from another log, byte for byte (a copy between backends): it must name
    /// the next position and a time no earlier than the last. Its chain hash is computed here.
    ///
    /// - Throws: `EventLogError.corruptRecord` when the record does not decode or does not follow.
    public mutating func append(record: Data) throws(EventLogError) {
        let header: RecordHeader
        do {
            header = try RecordHeader(record: record)
        } catch {
            throw .corruptRecord(reason: "\(error)")
        }
        let position = head.position + 1
        guard header.position == position else {
            throw .corruptRecord(reason: "the record says position \(header.position) where \(position) comes next")
        }
        guard header.recordedAtMicros >= head.lastRecordedAtMicros else {
            throw .corruptRecord(reason: "the record at \(position) goes back in time")
        }
        let hash = HashChain.next(previous: head.hash, position: position, record: record)
        entries.append(Entry(position: position, record: record, hash: hash, type: header.type, actor: header.actor))
        head = LogHead(position: position, hash: hash, lastRecordedAtMicros: header.recordedAtMicros)
    }

    /// Appends `event` at the next position, recorded at `micros` raised to the last recorded time (the
    /// log's times never go backwards). Returns the position and time the event got.
    ///
    /// - Throws: `EventLogError.invalidEvent` when the event breaks the log's limits; the batch is
    ///   unchanged then.
    @discardableResult
    public mutating func append(_ event: NewEvent, at micros: Int64) throws(EventLogError)
        -> (position: UInt64, recordedAtMicros: Int64)
    {
        try event.validate()
        let position = head.position + 1
        let time = max(micros, head.lastRecordedAtMicros)
        let record: Data
        do {
            record = try RecordEncoder.encode(event, position: position, recordedAtMicros: time)
        } catch {
            throw .invalidEvent("cannot encode the record header: \(error)")
        }
        let hash = HashChain.next(previous: head.hash, position: position, record: record)
        entries.append(Entry(position: position, record: record, hash: hash, type: event.type, actor: event.actor))
        head = LogHead(position: position, hash: hash, lastRecordedAtMicros: time)
        return (position, time)
    }
}
