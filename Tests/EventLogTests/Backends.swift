import EventLog
import EventLogPostgres
import Foundation
import QSMTesting
import Testing

/// The engines the log's suites run against, unchanged: each test takes one as its argument.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case lmdb
    case postgresql

    var testDescription: String { rawValue }
}

/// A fresh, empty log on one backend (a temporary directory, or a new database on the process's test
/// server), which a test can open again as a later process would.
final class TestLog: Sendable {
    let backend: Backend
    private let directory: TemporaryDirectory?
    let database: String?

    init(_ backend: Backend) throws {
        self.backend = backend
        switch backend {
        case .lmdb:
            directory = try TemporaryDirectory()
            database = nil
        case .postgresql:
            directory = nil
            database = try PostgresTestServer.shared().createDatabase()
        }
    }

    /// Where the log lives: the directory, or the database's (password-free) URL.
    var location: String {
        if let directory { return directory.path }
        return (try? PostgresTestServer.shared().socketURL(database: database ?? "")) ?? ""
    }

    /// Opens (creating on first use) the log.
    func open(
        readOnly: Bool = false,
        clock: (@Sendable () -> Int64)? = nil
    ) async throws -> any LogStore {
        switch backend {
        case .lmdb:
            var options = EventStore.Options()
            if let clock { options.clock = clock }
            return try EventStore(directory: location, mode: readOnly ? .readOnly : .readWrite, options: options)
        case .postgresql:
            let location = try PostgresLocation(location)
            if let clock {
                return try await PostgresLogStore.open(location, password: nil, mode: readOnly ? .readOnly : .readWrite, clock: clock)
            }
            return try await PostgresLogStore.open(location, password: nil, mode: readOnly ? .readOnly : .readWrite)
        }
    }

    /// A new empty log on `backend`, opened read-write.
    static func make(_ backend: Backend, clock: (@Sendable () -> Int64)? = nil) async throws -> (TestLog, any LogStore) {
        let log = try TestLog(backend)
        return (log, try await log.open(clock: clock))
    }
}
