internal import CLMDB
import Foundation
import Synchronization

/// One row of a table the log's writer keeps beside the events: a projection served from disk instead
/// of from memory. Rows are written in the transaction of the events they come from, so a table is
/// always exactly as far as the log.
public struct TableRow: Sendable, Hashable {
    /// The table's name, one of `EventStore.Options.tables`.
    public let table: String
    public let key: [UInt8]
    public let value: [UInt8]
    /// When true and the key is already there, the row is not written (the first write wins).
    public let keepExisting: Bool

    /// A row of `table`.
    public init(table: String, key: [UInt8], value: [UInt8], keepExisting: Bool = false) {
        self.table = table
        self.key = key
        self.value = value
        self.keepExisting = keepExisting
    }
}

/// Reading the writer's tables: from LMDB (``TableTransaction``) or from memory (a rebuild's image, a
/// test's given events). Keys compare as unsigned bytes, as LMDB's default order does.
public protocol TableReading {
    /// The value under `key` in `table`, or nil.
    func value(in table: String, key: [UInt8]) throws -> [UInt8]?

    /// Calls `body` with the rows of `table` whose keys start with `prefix`, from the last key below
    /// `below` (the end of the prefix when nil) backwards, until `body` returns false.
    func scanBackward(in table: String, prefix: [UInt8], below: [UInt8]?, _ body: ([UInt8], [UInt8]) throws -> Bool) throws
}

/// The writer's tables inside one LMDB transaction (read-only, or the writer's own during a rebuild).
public struct TableTransaction: TableReading {
    let txn: Transaction
    let handles: [String: MDB_dbi]
    let writable: Bool

    public func value(in table: String, key: [UInt8]) throws -> [UInt8]? {
        guard let dbi = handles[table] else { return nil }
        return try key.withUnsafeBytes { try txn.get(dbi, key: $0).map { Array($0) } }
    }

    public func scanBackward(in table: String, prefix: [UInt8], below: [UInt8]?, _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        guard let dbi = handles[table] else { return }
        try txn.withCursor(dbi) { cursor in
            // The first key at or past the bound; the scan starts one before it, or at the last key when
            // every key is below the bound.
            let bound = below ?? Self.successor(of: prefix)
            var row: (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
            if let bound, try bound.withUnsafeBytes({ try cursor.get(MDB_SET_RANGE, key: $0) }) != nil {
                row = try cursor.get(MDB_PREV)
            } else {
                row = try cursor.get(MDB_LAST)
            }
            while let (key, value) = row {
                guard key.starts(with: prefix) else { return }
                guard try body(Array(key), Array(value)) else { return }
                row = try cursor.get(MDB_PREV)
            }
        }
    }

    /// Writes `row`.
    func put(_ row: TableRow) throws {
        guard writable, let dbi = handles[row.table] else {
            throw EventLogError.invalidEvent("no writable table named \(row.table)")
        }
        try row.key.withUnsafeBytes { key in
            try row.value.withUnsafeBytes { value in
                do {
                    try txn.put(dbi, key: key, value: value, flags: row.keepExisting ? MDB_NOOVERWRITE : 0)
                } catch let error as LMDBError where error.code == MDB_KEYEXIST && row.keepExisting {
                    // The first write stays.
                }
            }
        }
    }

    /// The smallest key greater than every key starting with `prefix`, or nil when there is none.
    static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var key = prefix
        while let last = key.last {
            if last < 0xFF {
                key[key.count - 1] = last + 1
                return key
            }
            key.removeLast()
        }
        return nil
    }
}

extension EventStore {
    /// The last position the writer's tables reflect (0 when they were never written).
    public func tablesPosition() throws(EventLogError) -> UInt64 {
        guard let marks = databases.tableMarks else { return 0 }
        do {
            return try environment.read { txn in
                try Self.readTablesPosition(marks: marks, layout: options.tablesLayout, txn: txn)
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    /// Runs `body` with the writer's tables in one read transaction: a consistent view, as of the last
    /// commit.
    public func readTables<R>(_ body: (TableTransaction) throws -> R) throws -> R {
        let handles = databases.tables
        return try environment.read { txn in try body(TableTransaction(txn: txn, handles: handles, writable: false)) }
    }

    /// Empties every table and fills them again from the log, `chunk` events a transaction (each records
    /// how far it got, so a crash part way resumes from there). `rows` gives an event's rows, reading
    /// the rows written so far through the transaction it is given. Only the log's writer (or whoever
    /// holds it, before starting one) calls this.
    public func rebuildTables(
        from start: UInt64 = 1, through last: UInt64, chunk: Int = 50_000,
        rows: (StoredEvent, TableTransaction) throws -> [TableRow]
    ) throws {
        guard mode == .readWrite, let marks = databases.tableMarks else { throw EventLogError.readOnly(path: path) }
        let handles = databases.tables
        var next = start
        if start <= 1 {
            try environment.writeGrowingMap { txn in
                for dbi in handles.values { try check(mdb_drop(txn.handle, dbi, 0), "mdb_drop") }
                try Self.writeTablesPosition(0, layout: options.tablesLayout, marks: marks, txn: txn)
            }
            next = 1
        }
        while next <= last {
            let end = min(last, next + UInt64(chunk) - 1)
            let events = try read(from: next, limit: Int(end - next + 1))
            try environment.writeGrowingMap { txn in
                let access = TableTransaction(txn: txn, handles: handles, writable: true)
                for event in events { for row in try rows(event, access) { try access.put(row) } }
                try Self.writeTablesPosition(end, layout: options.tablesLayout, marks: marks, txn: txn)
            }
            next = end + 1
        }
    }

    /// The position recorded in `marks`: 0 when none is, or when the tables were written under another
    /// layout than `layout`.
    static func readTablesPosition(marks: MDB_dbi, layout: UInt64, txn: Transaction) throws -> UInt64 {
        guard (try readNumber(Tables.layoutKey, marks: marks, txn: txn) ?? 1) == layout else { return 0 }
        return try readNumber(Tables.positionKey, marks: marks, txn: txn) ?? 0
    }

    static func writeTablesPosition(_ position: UInt64, layout: UInt64, marks: MDB_dbi, txn: Transaction) throws {
        try writeNumber(position, Tables.positionKey, marks: marks, txn: txn)
        try writeNumber(layout, Tables.layoutKey, marks: marks, txn: txn)
    }

    private static func readNumber(_ name: String, marks: MDB_dbi, txn: Transaction) throws -> UInt64? {
        guard let bytes = try Array(name.utf8).withUnsafeBytes({ try txn.get(marks, key: $0) }), bytes.count == 8
        else { return nil }
        return bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private static func writeNumber(_ value: UInt64, _ name: String, marks: MDB_dbi, txn: Transaction) throws {
        try Array(name.utf8).withUnsafeBytes { key in
            try withUnsafeBytes(of: value.bigEndian) { try txn.put(marks, key: key, value: $0) }
        }
    }
}

/// Names the log keeps for its tables' bookkeeping.
enum Tables {
    /// The database recording how far the tables are.
    static let marksName = "tables_meta"
    static let positionKey = "position"
    /// The layout the rows were written under (``EventStore/Options/tablesLayout``).
    static let layoutKey = "layout"
}
