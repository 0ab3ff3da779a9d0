import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL primary for tests and benchmarks: initdb into a temporary directory, started
/// with pg_ctl on a loopback port and a Unix socket in that directory, as the `postgres` user when we
/// are root (initdb refuses root), stopped when the process exits.
///
/// Unix-socket connections are trusted; TCP connections need ``password`` (scram-sha-256), so tests
/// can check refused credentials. Nothing is skipped: when the server cannot start, ``shared()`` throws
/// with the reason and the server's log.
public final class PostgresTestServer: Sendable {
    /// The superuser, for URLs and psql.
    public let user = "postgres"
    /// The superuser's password over TCP.
    public let password = "qsm-test-\(UInt64.random(in: 0...UInt64.max))"
    /// The TCP port on 127.0.0.1 (the Unix socket uses the same number).
    public let port: Int
    /// The directory holding the data directory, the server's log and its Unix socket.
    public let directory: String
    private let binaries: String
    private let runAsPostgres: Bool
    private let databases = Atomic<Int>(0)

    private static let instance = Mutex<Result<PostgresTestServer, PostgresTestServerError>?>(nil)

    /// The process's one server, started on first use and stopped at exit.
    public static func shared() throws(PostgresTestServerError) -> PostgresTestServer {
        try instance.withLock { (slot) throws(PostgresTestServerError) -> PostgresTestServer in
            if let slot { return try slot.get() }
            let result = Result { () throws(PostgresTestServerError) in try PostgresTestServer() }
            slot = result
            if case .success = result { atexit { PostgresTestServer.stopShared() } }
            return try result.get()
        }
    }

    private static func stopShared() {
        if case .success(let server)? = instance.withLock({ $0 }) { server.stop() }
    }

    private init() throws(PostgresTestServerError) {
        let installed = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = installed.compactMap(Int.init).max() else {
            throw PostgresTestServerError("no PostgreSQL server under /usr/lib/postgresql (install Debian's postgresql)")
        }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        runAsPostgres = geteuid() == 0
        var template = Array("/tmp/qsm-pg.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PostgresTestServerError("cannot create a directory under /tmp")
        }
        directory = String(cString: made)
        do { port = try LoopbackPort.free() } catch { throw PostgresTestServerError(error.description) }
        guard FileManager.default.createFile(atPath: directory + "/pwfile", contents: Data(password.utf8)) else {
            throw PostgresTestServerError("cannot write \(directory)/pwfile")
        }
        if runAsPostgres {
            guard let account = getpwnam("postgres") else {
                throw PostgresTestServerError("we are root but there is no postgres user to run the server as")
            }
            for path in [directory, directory + "/pwfile"] { chown(path, account.pointee.pw_uid, account.pointee.pw_gid) }
        }
        chmod(directory, 0o700)
        try run(
            binaries + "/initdb",
            ["-D", directory + "/data", "-U", user, "--auth-local=trust", "--auth-host=scram-sha-256",
             "--pwfile=" + directory + "/pwfile", "--no-locale", "-E", "UTF8", "--no-sync"], what: "initdb")
        let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c max_connections=200"
        do {
            try run(
                binaries + "/pg_ctl",
                ["-D", directory + "/data", "-w", "-t", "60", "-l", directory + "/server.log", "-o", options, "start"],
                what: "pg_ctl start", capture: false)
        } catch {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw PostgresTestServerError("\(error.description); server log: \(log.suffix(600))")
        }
    }

    /// Stops the server at once (pg_ctl -m immediate) and removes its directory.
    public func stop() {
        _ = try? run(binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "stop"], what: "pg_ctl stop")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates a new, empty database and returns its name.
    public func createDatabase() throws(PostgresTestServerError) -> String {
        let name = "qsm_test_\(getpid())_\(databases.add(1, ordering: .relaxed).newValue)"
        _ = try psql("CREATE DATABASE \(name)", database: "postgres")
        return name
    }

    /// Runs `sql` in `database` as the superuser over the Unix socket; returns psql's unaligned output.
    @discardableResult
    public func psql(_ sql: String, database: String) throws(PostgresTestServerError) -> String {
        try run(
            binaries + "/psql",
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", String(port), "-U", user,
             "-d", database, "-c", sql], what: "psql", asPostgres: false)
    }

    /// Runs pgbench on `database` over the Unix socket with `arguments`; returns its report.
    public func pgbench(_ arguments: [String], database: String) throws(PostgresTestServerError) -> String {
        try run(binaries + "/pgbench", ["-h", directory, "-p", String(port), "-U", user] + arguments + [database], what: "pgbench")
    }

    /// `postgresql://postgres@127.0.0.1:PORT/DATABASE`: TCP, needs ``password``.
    public func url(database: String) -> String { "postgresql://\(user)@127.0.0.1:\(port)/\(database)" }

    /// The same database over the Unix socket, which the server trusts.
    public func socketURL(database: String) -> String { url(database: database) + "?host=" + directory }

    @discardableResult
    private func run(
        _ executable: String, _ arguments: [String], what: String, asPostgres: Bool = true, capture: Bool = true
    ) throws(PostgresTestServerError) -> String {
        let process = Process()
        if runAsPostgres && asPostgres {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        // The server pg_ctl starts inherits pg_ctl's descriptors, Foundation's way of noticing a child's exit
        // among them, so Process never sees pg_ctl end: spawn it plainly and wait for its pid.
        guard capture else {
            let argv = [process.executableURL?.path ?? executable] + (process.arguments ?? [])
            let status = try Self.spawnAndWait(argv, what: what)
            guard status == 0 else { throw PostgresTestServerError("\(what) exited with \(status)") }
            return ""
        }
        // Standard error to a file, not a second pipe: reading one pipe to its end while the other fills
        // would deadlock a chatty tool (pgbench).
        let errorsPath = NSTemporaryDirectory() + "/qsm-pg-stderr-\(UInt64.random(in: 0...UInt64.max))"
        _ = FileManager.default.createFile(atPath: errorsPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorsPath) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: errorsPath)
        do {
            try process.run()
        } catch {
            throw PostgresTestServerError("\(what): cannot start \(executable): \(error)")
        }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let err = FileManager.default.contents(atPath: errorsPath) ?? Data()
        guard process.terminationStatus == 0 else {
            let reason = String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgresTestServerError("\(what) exited with \(process.terminationStatus): \(reason)")
        }
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `argv` with /dev/null for its standard streams and returns its exit status.
    private static func spawnAndWait(_ argv: [String], what: String) throws(PostgresTestServerError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = argv.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, arguments, environ)
        guard spawned == 0 else { throw PostgresTestServerError("\(what): cannot start \(argv[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw PostgresTestServerError("\(what): waitpid failed: errno \(errno)") }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}

/// Why the test server could not start or a psql command failed, in one line.
public struct PostgresTestServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
