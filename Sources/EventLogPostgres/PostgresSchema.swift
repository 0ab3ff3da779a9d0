import EventLog
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The tables of a log on PostgreSQL and how a database is recognised as one.
///
/// `events` holds exactly LMDB's `events` and `chain` values (record and chain), plus the two fields
/// LMDB keeps in its index databases (type, actor), indexed here; `qsm_meta` holds the same keys as
/// LMDB's `meta` database.
enum PostgresSchema {
    /// The table layout this build writes and reads; a database whose meta names another is refused.
    static let formatVersion = LogMeta.currentFormatVersion

    static let create: [PostgresQuery] = [
        "CREATE TABLE qsm_meta (key text PRIMARY KEY, value text NOT NULL)",
        """
        CREATE TABLE events (position bigint PRIMARY KEY CHECK (position > 0), record bytea NOT NULL, \
        chain bytea NOT NULL, type integer NOT NULL, actor text NOT NULL)
        """,
        "CREATE INDEX events_by_actor ON events (actor, position) WHERE actor <> ''",
        "CREATE INDEX events_by_type ON events (type, position)",
    ]

    /// Reads the log's meta, creating the schema and a new log first when `create` and the database
    /// holds neither table.
    static func openOrCreate(
        _ connection: PostgresConnection, location: String, create: Bool, as given: LogMeta?, clock: () -> Int64,
        logger: Logger
    ) async throws -> LogMeta {
        let rows = try await connection.query(
            "SELECT to_regclass('qsm_meta') IS NOT NULL, to_regclass('events') IS NOT NULL", logger: logger)
        var hasMeta = false
        var hasEvents = false
        for try await (meta, events) in rows.decode((Bool, Bool).self) { (hasMeta, hasEvents) = (meta, events) }
        if !hasMeta {
            if hasEvents {
                throw EventLogError.notALog(path: location, reason: "it has an events table but no qsm_meta table")
            }
            guard create else { throw EventLogError.notALog(path: location, reason: "the database has no qsm tables") }
            let logID = (given?.logID ?? UUID()).uuidString.lowercased()
            let created = String(given?.createdAtMicros ?? clock())
            let magic = LogMeta.magic
            let version = String(formatVersion)
            do {
                try await connection.withTransaction(logger: logger) { connection in
                    for statement in Self.create { try await connection.query(statement, logger: logger) }
                    try await connection.query(
                        """
                        INSERT INTO qsm_meta (key, value) VALUES ('magic', \(magic)), ('format_version', \(version)), \
                        ('log_id', \(logID)), ('created_at_us', \(created))
                        """, logger: logger)
                }
            } catch let error as PostgresTransactionError {
                // Another process created the schema at the same moment: read what it wrote.
                guard PostgresFailure.sqlState(error.closureError) == "42P07" else { throw error }
            }
        }
        return try await readMeta(connection, location: location, logger: logger)
    }

    private static func readMeta(_ connection: PostgresConnection, location: String, logger: Logger) async throws -> LogMeta {
        var values: [String: String] = [:]
        let rows = try await connection.query("SELECT key, value FROM qsm_meta", logger: logger)
        for try await (key, value) in rows.decode((String, String).self) { values[key] = value }
        guard values["magic"] == LogMeta.magic else {
            throw EventLogError.notALog(path: location, reason: "its qsm_meta table has no qsm magic")
        }
        guard let version = values["format_version"].flatMap(UInt32.init) else {
            throw EventLogError.notALog(path: location, reason: "its qsm_meta table has no format version")
        }
        guard version >= formatVersion else {
            throw EventLogError.olderFormat(path: location, found: version, supported: formatVersion)
        }
        guard version == formatVersion else {
            throw EventLogError.newerFormat(path: location, found: version, supported: formatVersion)
        }
        guard let logID = values["log_id"].flatMap(UUID.init(uuidString:)),
              let created = values["created_at_us"].flatMap(Int64.init)
        else { throw EventLogError.notALog(path: location, reason: "its qsm_meta table lacks the log id or creation time") }
        return LogMeta(formatVersion: version, logID: logID, createdAtMicros: created)
    }

    /// The last row's position and chain hash, with its record's time.
    static func head(_ connection: PostgresConnection, logger: Logger) async throws -> LogHead {
        let rows = try await connection.query(
            "SELECT position, record, chain FROM events ORDER BY position DESC LIMIT 1", logger: logger)
        for try await (position, record, chain) in rows.decode((Int64, ByteBuffer, ByteBuffer).self) {
            let header = try RecordHeader(record: Data(record.readableBytesView))
            return LogHead(
                position: UInt64(position), hash: Data(chain.readableBytesView),
                lastRecordedAtMicros: header.recordedAtMicros)
        }
        return .empty
    }
}
