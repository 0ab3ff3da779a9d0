import Foundation
import QSMTesting

/// Paths of the package's built products, which sit beside the test runner.
enum Products {
    static var directory: String {
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: runner).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("qsmd").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.path
    }

    static var qsmd: String { directory + "/qsmd" }
    static var qsm: String { directory + "/qsm" }
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}

/// A qsmd child process on a data directory, with its socket in a directory anyone may enter (so tests
/// can call it as nobody).
final class Daemon: Sendable {
    let directory: TemporaryDirectory
    let socket: String
    let data: String
    let config: String
    let process: ChildProcess

    /// Starts qsmd and waits until its socket answers.
    init(directory: TemporaryDirectory? = nil, settings: [String: Any] = [:], arguments: [String] = []) async throws {
        let directory = try directory ?? TemporaryDirectory(prefix: "qsm-socket")
        chmod(directory.path, 0o755)
        self.directory = directory
        data = directory.appending("data")
        socket = directory.appending("qsm.sock")
        config = directory.appending("qsmd.json")
        try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: config))
        process = try ChildProcess(Products.qsmd, ["--data", data, "--socket", socket, "--config", config] + arguments)
        let deadline = ContinuousClock.now + .seconds(60)
        while !Self.answers(socket) {
            guard ContinuousClock.now < deadline else { throw DaemonError("qsmd did not start: \(process.standardError)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func answers(_ path: String) -> Bool {
        let fd = socket_(path)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// Sends SIGTERM and waits for the exit status.
    func stop() async throws -> Int32 {
        process.kill(SIGTERM)
        return try await process.wait()
    }

    /// Runs qsm with `arguments`, `input` on standard input, as `user`'s session; returns (status, stdout, stderr).
    func qsm(_ arguments: [String], input: String? = nil, home: String, asNobody: Bool = false) async throws -> (Int32, String, String) {
        // nobody may not be able to enter the build directory (a checkout in a private directory): it runs
        // a copy of qsm from the test's own world-readable directory.
        var executable = Products.qsm
        if asNobody {
            executable = directory.appending("qsm-for-nobody")
            if !FileManager.default.fileExists(atPath: executable) {
                try FileManager.default.copyItem(atPath: Products.qsm, toPath: executable)
                chmod(executable, 0o755)
            }
        }
        let quoted = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        var command = input.map { "printf '%s\\n' '\($0)' | " + quoted } ?? quoted
        if asNobody { command = "setpriv --reuid=nobody --regid=nogroup --clear-groups /bin/sh -c \"\(command.replacingOccurrences(of: "\"", with: "\\\""))\"" }
        let environment = [
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "QSM_SOCKET": socket, "QSM_HOME": home, "HOME": directory.path,
        ]
        let (status, lines, stderr) = try await ChildProcess.run("/bin/sh", ["-c", command], environment: environment)
        return (status, lines.joined(separator: "\n"), stderr)
    }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Connects to a Unix socket; the descriptor, or -1.
func socket_(_ path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(path.utf8)
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    if result != 0 {
        close(fd)
        return -1
    }
    return fd
}
