internal import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// qsm's durable, append-only, hash-chained event log on LMDB.
///
/// One process (the broker) opens a log read-write; any number of processes open it read-only, also
/// while the broker appends, and see a consistent prefix. Nothing in this API updates or deletes an
/// event. Appends from many concurrent callers are group-committed: one transaction, one fsync, for
/// everything waiting, and each caller resumes only after its transaction is durable.
public final class EventStore: Sendable {
    /// How to open a log.
    public enum Mode: Sendable {
        /// The broker's mode: creates the log if the directory is new or empty; one writer at a time.
        case readWrite
        /// Any other process: never creates or changes anything.
        case readOnly
    }

    /// Tunables; the defaults suit the broker.
    public struct Options: Sendable {
        /// Initial LMDB map size in bytes; the map doubles whenever it fills.
        public var initialMapSize: Int = 256 << 20
        /// Concurrent read transactions across all processes.
        public var maxReaders: UInt32 = 512
        /// Most events committed in one transaction (the writer stops adding commands to a batch there).
        public var maxEventsPerCommit: Int = 8192
        /// How long the writer may hold a decided batch, once the disk is free, for the callers of the
        /// previous commit to come back, so their commands share one fsync (as PostgreSQL's
        /// commit_delay). Zero turns it off; a lone caller never waits.
        public var commitDelay: Duration = .microseconds(200)
        /// Microseconds since the Unix epoch; the log never lets recorded time go backwards.
        public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) }
        /// Tables the writer keeps beside the events (``TableRow``), opened with the log and made when
        /// missing in a read-write open. Names must not be those of the log's own databases.
        public var tables: [String] = []
        /// The version of the rows' layout in `tables`. Tables written under another layout count as
        /// never written, so the broker fills them again from the log at start. A log that never
        /// recorded one is at layout 1.
        public var tablesLayout: UInt64 = 1

        public init() {}
    }

    /// The log's directory.
    public let path: String
    public let meta: LogMeta
    public let mode: Mode
    let environment: LMDBEnvironment
    let databases: Databases
    let options: Options
    /// The write side of a read-write log: its lock, durable head and writer (see EventStore+Writing).
    let writeSide: WriteSide?

    /// Opens the log in `directory`.
    ///
    /// - Parameters:
    ///   - directory: the log's directory (LMDB's `data.mdb` and `lock.mdb` live in it).
    ///   - mode: `.readWrite` for the broker, `.readOnly` for everyone else.
    ///   - options: tunables.
    /// - Throws: `EventLogError` naming the path and what to do.
    public init(directory: String, mode: Mode = .readWrite, options: Options = Options()) throws(EventLogError) {
        let path = URL(fileURLWithPath: directory).standardizedFileURL.path
        self.path = path
        self.mode = mode
        self.options = options
        switch mode {
        case .readOnly:
            try Self.checkExistingLog(path, writable: false)
            environment = try Self.openEnvironment(path, readOnly: true, options: options)
            (databases, meta) = try Self.openDatabases(environment, path: path, create: false, tables: options.tables)
            writeSide = nil
        case .readWrite:
            let isNew = try Self.prepareDirectory(path)
            let lock = try WriterLock(directory: path)
            environment = try Self.openEnvironment(path, readOnly: false, options: options)
            (databases, meta) = try Self.openDatabases(
                environment, path: path, create: isNew, tables: options.tables, clock: options.clock)
            let head = try Self.readHead(environment, databases, path: path)
            writeSide = WriteSide(lock: lock, head: head)
        }
    }

    deinit { close() }

    /// Stops the writer after committing what is already queued and releases the writer lock; later
    /// appends fail with `.closed`. Reads keep working until the last reference goes away.
    public func close() {
        writeSide?.close()
    }

    // MARK: Appending

    /// Appends `events` atomically, in order, and returns their positions once they are durable.
    ///
    /// Concurrent callers share transactions (group commit, through the log's one ``LogWriter``). When
    /// the call throws, none of `events` was written. `recordedAtMicros` stamps the events with a
    /// caller's time; a time below the last one recorded is raised to it, so the log's times never go
    /// backwards. Nil takes the log's clock. A log whose writer another component took (the broker)
    /// refuses this call.
    @discardableResult
    public func append(_ events: [NewEvent], recordedAtMicros: Int64? = nil) async throws(EventLogError)
        -> [UInt64]
    {
        guard let writeSide else { throw .readOnly(path: path) }
        guard !events.isEmpty else { return [] }
        for event in events { try event.validate() }
        let writer = try writeSide.appendWriter(for: self)
        return try await writer.append(events, recordedAtMicros: recordedAtMicros)
    }

    /// The writer's counters, or nil for a read-only log.
    public var writerStatistics: WriterStatistics? { writeSide?.statistics }

    /// The last position and chain hash as of now (the durable head, for the log's writer).
    public func head() throws(EventLogError) -> LogHead {
        if let writeSide { return writeSide.durableHead }
        return try Self.readHead(environment, databases, path: path)
    }

    // MARK: Opening

    /// For a read-write open: creates the directory if needed. Returns true if it holds no log yet.
    private static func prepareDirectory(_ path: String) throws(EventLogError) -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .notALog(path: path, reason: "it is a file, not a directory") }
            guard access(path, R_OK | W_OK | X_OK) == 0 else {
                throw .permissionDenied(path: path, detail: "the broker needs to read and write this directory")
            }
            if fm.fileExists(atPath: path + "/data.mdb") {
                try checkExistingLog(path, writable: true)
                return false
            }
            let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            let foreign = entries.filter { !["lock.mdb", "writer.lock"].contains($0) && !$0.hasPrefix(".") }
            guard foreign.isEmpty else {
                throw .notALog(path: path, reason: "it has no data.mdb but holds other files, e.g. \(foreign.sorted()[0])")
            }
            return true
        }
        do {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            let parent = (path as NSString).deletingLastPathComponent
            if access(parent, W_OK) != 0 && errno != ENOENT {
                throw .permissionDenied(path: path, detail: "cannot create the directory")
            }
            throw .storage(path: path, detail: "cannot create the directory: \(error.localizedDescription)")
        }
        return true
    }

    private static func checkExistingLog(_ path: String, writable: Bool) throws(EventLogError) {
        // access, not fileExists: a directory this uid may not enter must say "permission denied", not
        // "no such directory" or "not a qsm event log".
        guard access(path, F_OK) == 0 else {
            if errno == EACCES {
                throw .permissionDenied(path: path, detail: "a directory above it may not be entered by uid \(geteuid())")
            }
            throw .notFound(path: path)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notALog(path: path, reason: "it is a file, not a directory")
        }
        guard access(path, R_OK | X_OK) == 0 else {
            let attributes = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
            let owner = (attributes[.ownerAccountID] as? NSNumber)?.stringValue ?? "?"
            let mode = (attributes[.posixPermissions] as? NSNumber).map { String($0.intValue, radix: 8) } ?? "?"
            throw .permissionDenied(path: path, detail: "uid \(geteuid()) may not read it (owner uid \(owner), mode \(mode))")
        }
        let data = path + "/data.mdb"
        guard FileManager.default.fileExists(atPath: data) else { throw .notALog(path: path, reason: "it has no data.mdb") }
        let wanted = writable ? R_OK | W_OK : R_OK
        guard access(data, wanted) == 0 else {
            throw .permissionDenied(path: path, detail: writable ? "data.mdb is not writable" : "data.mdb is not readable")
        }
    }

    private static func openEnvironment(_ path: String, readOnly: Bool, options: Options)
        throws(EventLogError) -> LMDBEnvironment
    {
        do {
            // Never map less than the file holds: a log that grew must open at its size.
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb")
            let fileSize = (attributes?[.size] as? Int) ?? 0
            return try LMDBEnvironment(
                directory: path, readOnly: readOnly, mapSize: max(options.initialMapSize, fileSize),
                maxReaders: options.maxReaders)
        } catch {
            if error.code == MDB_INVALID { throw .notALog(path: path, reason: "data.mdb is not an LMDB file") }
            if error.code == MDB_VERSION_MISMATCH {
                throw .notALog(path: path, reason: "data.mdb was written by an incompatible LMDB version")
            }
            throw mapped(error, path: path)
        }
    }

    private static func openDatabases(
        _ env: LMDBEnvironment, path: String, create: Bool, tables: [String], clock: (@Sendable () -> Int64)? = nil
    ) throws(EventLogError) -> (Databases, LogMeta) {
        do {
            let open: (Transaction) throws -> (Databases, LogMeta) = { txn in
                if create {
                    let dbs = try Databases(txn, create: true, tables: tables, writable: true)
                    let meta = LogMeta(
                        formatVersion: LogMeta.currentFormatVersion, logID: UUID(),
                        createdAtMicros: clock?() ?? 0)
                    try MetaStore.write(meta, dbi: dbs.meta, txn: txn)
                    return (dbs, meta)
                }
                let metaDBI: MDB_dbi
                do {
                    metaDBI = try txn.openDatabase("meta")
                } catch let error as LMDBError where error.isNotFound {
                    throw EventLogError.notALog(path: path, reason: "data.mdb has no qsm meta database")
                }
                switch try MetaStore.read(dbi: metaDBI, txn: txn) {
                case .failure(let notALog): throw EventLogError.notALog(path: path, reason: notALog.reason)
                case .success(let meta):
                    guard meta.formatVersion <= LogMeta.currentFormatVersion else {
                        throw EventLogError.newerFormat(
                            path: path, found: meta.formatVersion, supported: LogMeta.currentFormatVersion)
                    }
                    return (try Databases(txn, create: false, tables: tables, writable: !env.readOnly), meta)
                }
            }
            // Database handles opened in a transaction become usable by others once it commits.
            return env.readOnly ? try env.readCommitting(open) : try env.write(open)
        } catch let error as EventLogError {
            throw error
        } catch let error as LMDBError {
            if error.isNotFound { throw .notALog(path: path, reason: "a qsm database is missing") }
            throw mapped(error, path: path)
        } catch {
            throw .storage(path: path, detail: "\(error)")
        }
    }

    static func readHead(_ env: LMDBEnvironment, _ dbs: Databases, path: String) throws(EventLogError) -> LogHead {
        do {
            return try env.read { txn in
                let last = try txn.withCursor(dbs.chain) { try $0.get(MDB_LAST) }
                guard let last else { return LogHead.empty }
                let position = try Keys.decodePosition(last.key)
                guard let record = try txn.withCursor(dbs.events, { try $0.get(MDB_LAST) }),
                      try Keys.decodePosition(record.key) == position
                else { throw EventLogError.corruptRecord(reason: "the chain and the events end at different positions") }
                let header = try RecordHeader(record: Data(record.value))
                return LogHead(position: position, hash: Data(last.value), lastRecordedAtMicros: header.recordedAtMicros)
            }
        } catch {
            throw mapped(error, path: path)
        }
    }

    /// Maps any error from a storage operation to an `EventLogError` naming `path`.
    static func mapped(_ error: any Error, path: String) -> EventLogError {
        if let error = error as? EventLogError { return error }
        if let error = error as? LMDBError {
            if error.isDiskFull || error.isShortWriteOnFullDisk(path: path) { return .diskFull(path: path) }
            if error.isPermission { return .permissionDenied(path: path, detail: error.description) }
            return .storage(path: path, detail: error.description)
        }
        return .storage(path: path, detail: "\(error)")
    }
}
