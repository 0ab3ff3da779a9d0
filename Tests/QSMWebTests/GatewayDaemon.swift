import Foundation
import Glibc
import QSMClient
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
    static var qsmWeb: String { directory + "/qsm-web" }
}

/// A real qsmd child process with its ordinary socket and its gateway socket, cheap password hashing
/// and small key exchanges so a test runs in seconds.
final class GatewayDaemon: Sendable {
    let directory: TemporaryDirectory
    let socket: String
    let gateway: String
    let process: ChildProcess

    init(directory: TemporaryDirectory? = nil) async throws {
        let directory = try directory ?? TemporaryDirectory(prefix: "qsm-web")
        self.directory = directory
        socket = directory.appending("qsm.sock")
        gateway = directory.appending("gateway.sock")
        let config = directory.appending("qsmd.json")
        let settings: [String: Any] = ["allowCheapPasswordHashingForTests": true, "passwordMemoryKiB": 8, "passwordIterations": 1]
        try JSONSerialization.data(withJSONObject: settings).write(to: URL(fileURLWithPath: config))
        process = try ChildProcess(
            Products.qsmd,
            ["--data", directory.appending("data"), "--socket", socket, "--gateway-socket", gateway, "--config", config])
        let deadline = ContinuousClock.now + .seconds(60)
        while !(Self.answers(socket) && Self.answers(gateway)) {
            guard ContinuousClock.now < deadline else { throw TestFailure("qsmd did not start: \(process.standardError)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func answers(_ path: String) -> Bool {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// Stops qsmd (SIGTERM) and waits for it.
    @discardableResult
    func stop() async throws -> Int32 {
        process.kill(SIGTERM)
        return try await process.wait()
    }

    /// Every event of the log, read as an administrator on the ordinary socket.
    func events() async throws -> [AdminAPI.Event] {
        let connection = try await QSMConnection.connect(socketPath: socket)
        defer { Task { await connection.close() } }
        var events: [AdminAPI.Event] = []
        for try await reply in connection.stream(AdminAPI.ReadEvents(from: 1, limit: 10_000)) {
            if let event = reply.event { events.append(event) }
        }
        return events
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The outcome of a call that should fail: the declared Broker error, or the name of another error reply.
/// (A `catch QSMClientError.broker(...)` clause around typed throws crashes Swift 6.3's SILGen.)
enum Refusal: Equatable {
    case broker(BrokerAPIError)
    case reply(String)
    case other(String)
    case none

    static func of<T>(_ body: () async throws(QSMClientError) -> T) async -> Refusal {
        do {
            _ = try await body()
            return .none
        } catch {
            switch error {
            case .broker(let declared): return .broker(declared)
            case .reply(let name, _): return .reply(name)
            default: return .other("\(error)")
            }
        }
    }
}
