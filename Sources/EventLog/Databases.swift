internal import CLMDB
import Foundation

/// Handles of the log's named LMDB databases.
struct Databases: Sendable {
    /// position (be64) -> record.
    let events: MDB_dbi
    /// position (be64) -> h(position), 32 bytes.
    let chain: MDB_dbi
    /// actor (UTF-8) -> positions (be64), sorted duplicates.
    let byActor: MDB_dbi
    /// type id (be32) -> positions (be64), sorted duplicates.
    let byType: MDB_dbi
    /// projection name -> snapshot (state and the position it reflects); written by the broker.
    let snapshots: MDB_dbi
    /// "magic", "format_version", "log_id", "created_at_us".
    let meta: MDB_dbi
    /// The writer's tables (`EventStore.Options.tables`) by name: those that exist, for a read-only log.
    let tables: [String: MDB_dbi]
    /// "position" -> the last position (be64) the tables reflect; nil when the log keeps no tables.
    let tableMarks: MDB_dbi?

    static let indexFlags = MDB_DUPSORT | MDB_DUPFIXED

    /// Opens every database; `create` makes missing ones (only when writing a new log). The tables named
    /// in `tables` are made when missing in a `writable` open, and skipped when missing otherwise.
    init(_ txn: Transaction, create: Bool, tables names: [String] = [], writable: Bool = false) throws(LMDBError) {
        meta = try txn.openDatabase("meta", create: create)
        events = try txn.openDatabase("events", create: create)
        chain = try txn.openDatabase("chain", create: create)
        byActor = try txn.openDatabase("by_actor", flags: Self.indexFlags, create: create)
        byType = try txn.openDatabase("by_type", flags: Self.indexFlags, create: create)
        snapshots = try txn.openDatabase("snapshots", create: create)
        var tables: [String: MDB_dbi] = [:]
        var marks: MDB_dbi?
        for name in names.isEmpty ? [] : names + [Tables.marksName] {
            do {
                let dbi = try txn.openDatabase(name, create: writable)
                if name == Tables.marksName { marks = dbi } else { tables[name] = dbi }
            } catch where error.isNotFound && !writable {
                continue
            }
        }
        self.tables = tables
        tableMarks = marks
    }
}

/// Reads and writes the `meta` database.
enum MetaStore {
    static func write(_ meta: LogMeta, dbi: MDB_dbi, txn: Transaction) throws {
        try put("magic", Array(LogMeta.magic.utf8), dbi, txn)
        try put("format_version", withUnsafeBytes(of: meta.formatVersion.bigEndian) { Array($0) }, dbi, txn)
        try put("log_id", withUnsafeBytes(of: meta.logID.uuid) { Array($0) }, dbi, txn)
        try put("created_at_us", withUnsafeBytes(of: meta.createdAtMicros.bigEndian) { Array($0) }, dbi, txn)
    }

    /// The stored meta, or a reason why this is not a qsm log.
    static func read(dbi: MDB_dbi, txn: Transaction) throws -> Result<LogMeta, NotALog> {
        guard let magic = try get("magic", dbi, txn), magic == Array(LogMeta.magic.utf8) else {
            return .failure(NotALog(reason: "its meta database has no qsm magic"))
        }
        guard let format = try get("format_version", dbi, txn), format.count == 4,
              let id = try get("log_id", dbi, txn), id.count == 16,
              let created = try get("created_at_us", dbi, txn), created.count == 8
        else { return .failure(NotALog(reason: "its meta database is incomplete")) }
        let uuid = id.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }
        return .success(LogMeta(
            formatVersion: format.reduce(0) { $0 << 8 | UInt32($1) },
            logID: UUID(uuid: uuid),
            createdAtMicros: Int64(bitPattern: created.reduce(0) { $0 << 8 | UInt64($1) })))
    }

    struct NotALog: Error { let reason: String }

    private static func put(_ key: String, _ value: [UInt8], _ dbi: MDB_dbi, _ txn: Transaction) throws {
        try Array(key.utf8).withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(dbi, key: k, value: $0) } }
    }

    private static func get(_ key: String, _ dbi: MDB_dbi, _ txn: Transaction) throws -> [UInt8]? {
        try Array(key.utf8).withUnsafeBytes { try txn.get(dbi, key: $0).map { Array($0) } }
    }
}
