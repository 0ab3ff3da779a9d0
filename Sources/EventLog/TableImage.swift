internal import CLMDB
import Foundation
import Crypto

/// The writer's tables in memory: what a rebuild folds the log into before comparing it with the tables
/// on disk (and, when asked, replacing them), and what tests fold their given events into.
public struct TableImage: TableReading, Sendable, Equatable {
    /// A row's key, hashed as one run of bytes (an array of bytes hashes byte by byte, which was most of
    /// a rebuild's time in the image).
    struct Key: Hashable, Sendable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    /// Rows by table name, then by key.
    private var tables: [String: [Key: [UInt8]]] = [:]

    /// No rows.
    public init() {}

    /// Writes `row` as the writer would.
    public mutating func apply(_ row: TableRow) {
        let key = Key(bytes: row.key)
        if row.keepExisting, tables[row.table]?[key] != nil { return }
        tables[row.table, default: [:]][key] = row.value
    }

    public func value(in table: String, key: [UInt8]) -> [UInt8]? {
        tables[table]?[Key(bytes: key)]
    }

    public func scanBackward(in table: String, prefix: [UInt8], below: [UInt8]?, _ body: ([UInt8], [UInt8]) throws -> Bool) rethrows {
        guard let rows = tables[table] else { return }
        for key in rows.keys.map(\.bytes).sorted(by: Self.ascending).reversed() where key.starts(with: prefix) {
            if let below, !Self.ascending(key, below) { continue }
            guard try body(key, rows[Key(bytes: key)] ?? []) else { return }
        }
    }

    /// Rows in `table`.
    public func count(in table: String) -> Int { tables[table]?.count ?? 0 }

    /// The rows of `table`, in no particular order.
    public func rows(in table: String) -> [(key: [UInt8], value: [UInt8])] {
        (tables[table] ?? [:]).map { ($0.key.bytes, $0.value) }
    }

    /// The digest of `names`, as ``EventStore/tableDigest(_:)`` computes it from disk.
    public func digest(of names: [String]) -> String {
        var hash = TableDigest()
        for name in names {
            hash.table(name)
            for row in rows(in: name).sorted(by: { Self.ascending($0.key, $1.key) }) { hash.row(row.key, row.value) }
        }
        return hash.finish()
    }

    /// LMDB's default key order: bytes compared unsigned, a prefix before its extensions.
    static func ascending(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.lexicographicallyPrecedes(b)
    }
}

/// SHA-256 over tables' rows in key order, each length-prefixed: equal exactly when the rows are.
struct TableDigest {
    private var hasher = SHA256()

    mutating func table(_ name: String) {
        bytes(Array(name.utf8))
    }

    mutating func row(_ key: [UInt8], _ value: [UInt8]) {
        bytes(key)
        bytes(value)
    }

    private mutating func bytes(_ bytes: [UInt8]) {
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }

    func finish() -> String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

extension EventStore {
    /// The digest of the tables `names` on disk as of the last commit, and the position they reflect:
    /// the digest equals a ``TableImage``'s exactly when their rows are equal.
    public func tableDigest(_ names: [String]) throws -> (position: UInt64, digest: String) {
        let handles = databases.tables
        let marks = databases.tableMarks
        return try environment.read { txn in
            let position = try marks.map { try Self.readTablesPosition(marks: $0, layout: options.tablesLayout, txn: txn) } ?? 0
            var hash = TableDigest()
            for name in names {
                hash.table(name)
                guard let dbi = handles[name] else { continue }
                try txn.withCursor(dbi) { cursor in
                    var row = try cursor.get(MDB_FIRST)
                    while let (key, value) = row {
                        hash.row(Array(key), Array(value))
                        row = try cursor.get(MDB_NEXT)
                    }
                }
            }
            return (position, hash.finish())
        }
    }

    /// Rows in `table` on disk.
    public func tableCount(_ table: String) throws -> Int {
        guard let dbi = databases.tables[table] else { return 0 }
        return try environment.read { txn in
            var stat = MDB_stat()
            try check(mdb_stat(txn.handle, dbi, &stat), "mdb_stat")
            return stat.ms_entries
        }
    }
}
