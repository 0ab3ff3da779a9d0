public import EventLog
public import Foundation
public import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The event log in a PostgreSQL database: the same records and chain as LMDB's ``EventStore``, in
/// `events(position bigint primary key, record bytea, chain bytea, type integer, actor text)`.
///
/// Positions are the primary key, so the database itself refuses a second event at a position: a
/// batch appended at a stale head fails with ``EventLogError/conflict(path:expected:found:)`` and
/// the chain cannot fork, whatever the writers do. `append(_ events:)` group-commits concurrent callers
/// into one statement (one transaction, one WAL flush).
public final class PostgresLogStore: LogStore {
    /// How to open a store.
    public enum Mode: Sendable {
        /// Creates the schema and a new log in an empty database.
        case readWrite
        /// Never creates or changes anything.
        case readOnly
    }

    public let location: String
    public let meta: LogMeta
    public let mode: Mode
    let connection: PostgresConnection
    let logger: Logger
    let appender: GroupAppender

    /// Connects to `location` and opens (or, read-write on an empty database, creates) the log there.
    ///
    /// - Parameters:
    ///   - location: the server and database.
    ///   - password: from ``PostgresLocation/password(file:environment:)``; nil when the server trusts us.
    ///   - mode: `.readWrite` creates the log in an empty database.
    ///   - expectedLogID: when given, a database holding another log is refused.
    ///   - creating: the id and creation time a new log gets (a copy keeps its source's); nil: a new id.
    ///   - clock: microseconds since the Unix epoch, for appends without a time.
    ///   - logger: where postgres-nio logs; nothing by default.
    /// - Throws: `EventLogError` in one line: unreachable, refused credentials, not a qsm log, another log,
    ///   another format.
    public static func open(
        _ location: PostgresLocation, password: String?, mode: Mode = .readWrite, expectedLogID: UUID? = nil,
        creating: LogMeta? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) },
        logger: Logger = Logger(label: "qsm.eventlog.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws(EventLogError) -> PostgresLogStore {
        let name = location.description
        let connection = try await connect(location, password: password, logger: logger)
        do {
            let meta = try await PostgresSchema.openOrCreate(
                connection, location: name, create: mode == .readWrite, as: creating, clock: clock, logger: logger)
            if let expectedLogID, expectedLogID != meta.logID {
                throw EventLogError.anotherLog(path: name, expected: expectedLogID, found: meta.logID)
            }
            return PostgresLogStore(
                location: name, meta: meta, mode: mode, connection: connection, logger: logger, clock: clock)
        } catch {
            try? await connection.close()
            throw PostgresFailure.map(error, location: name)
        }
    }

    private init(
        location: String, meta: LogMeta, mode: Mode, connection: PostgresConnection, logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.location = location
        self.meta = meta
        self.mode = mode
        self.connection = connection
        self.logger = logger
        appender = GroupAppender(clock: clock)
    }

    private static func connect(_ location: PostgresLocation, password: String?, logger: Logger)
        async throws(EventLogError) -> PostgresConnection
    {
        var configuration: PostgresConnection.Configuration
        if let socket = location.socketDirectory {
            configuration = .init(
                unixSocketPath: socket + "/.s.PGSQL.\(location.port)", username: location.user, password: password,
                database: location.database)
        } else {
            configuration = .init(
                host: location.host, port: location.port, username: location.user, password: password,
                database: location.database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(10)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw PostgresFailure.map(error, location: location.description)
        }
    }

    // A store dropped without close() still closes its connection (postgres-nio asserts that a connection
    // is closed before it goes away): the completion handler keeps it alive until then.
    deinit {
        let connection = connection
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Closes the connection; later calls fail.
    public func close() async {
        await appender.close()
        try? await connection.close()
    }

    /// The last position and chain hash in the database now.
    public func head() async throws(EventLogError) -> LogHead {
        do {
            return try await PostgresSchema.head(connection, logger: logger)
        } catch {
            throw PostgresFailure.map(error, location: location)
        }
    }
}
