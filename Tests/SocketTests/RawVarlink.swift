import EventLog
import Foundation
import QSMEvents
import QSMTesting

/// A blocking Varlink connection for tests that need many sockets, timings or raw frames: NUL-terminated
/// JSON over a Unix socket, one thread at a time.
final class RawVarlink {
    /// One reply: the error's name (nil on success) and the parameters.
    struct Reply {
        let error: String?
        let parameters: [String: Any]
        let continues: Bool

        subscript(_ name: String) -> Any? { parameters[name] }
    }

    let fd: Int32
    private var buffer = [UInt8]()

    init(_ path: String) throws {
        fd = socket_(path)
        guard fd >= 0 else { throw DaemonError("cannot connect to \(path): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Writes one call without reading its reply.
    func send(_ method: String, _ parameters: [String: Any] = [:], more: Bool = false) throws {
        var call: [String: Any] = ["method": method, "parameters": parameters]
        if more { call["more"] = true }
        var frame = try JSONSerialization.data(withJSONObject: call)
        frame.append(0)
        try write(frame)
    }

    /// Writes raw bytes.
    func write(_ bytes: Data) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw DaemonError("write failed: errno \(errno)") }
            offset += written
        }
    }

    /// Reads one reply frame, waiting at most `timeout`.
    func receive(timeout: Duration = .seconds(30)) throws -> Reply {
        let deadline = ContinuousClock.now + timeout
        while !buffer.contains(0) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw DaemonError("no reply within \(timeout)") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&poller, 1, max(1, milliseconds))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw DaemonError("connection closed by qsmd") }
            buffer += chunk[..<count]
        }
        let end = buffer.firstIndex(of: 0)!
        let object = try JSONSerialization.jsonObject(with: Data(buffer[..<end])) as? [String: Any] ?? [:]
        buffer.removeSubrange(...end)
        return Reply(
            error: object["error"] as? String, parameters: object["parameters"] as? [String: Any] ?? [:],
            continues: object["continues"] as? Bool ?? false)
    }

    /// One call and its (first) reply.
    @discardableResult
    func call(_ method: String, _ parameters: [String: Any] = [:], timeout: Duration = .seconds(60)) throws -> Reply {
        try send(method, parameters)
        return try receive(timeout: timeout)
    }

    /// A call that must succeed; its parameters.
    @discardableResult
    func ok(_ method: String, _ parameters: [String: Any] = [:]) throws -> [String: Any] {
        let reply = try call(method, parameters)
        guard reply.error == nil else { throw DaemonError("\(method) failed: \(reply.error!) \(reply.parameters)") }
        return reply.parameters
    }
}

/// qsmd settings for tests: cheap Argon2id (test installations only), everything else as given.
func cheapSettings(_ extra: [String: Any] = [:]) -> [String: Any] {
    ["allowCheapPasswordHashingForTests": true, "passwordMemoryKiB": 8, "passwordIterations": 1].merging(extra) { $1 }
}

extension RawVarlink {
    /// Registers `user` (password `user-password`) and logs in; the session token.
    func registerAndLogin(_ user: String) throws -> String {
        try ok("io.qsm.Broker.Register", ["username": user, "password": "\(user)-password"])
        return try login(user)
    }

    func login(_ user: String, password: String? = nil) throws -> String {
        let session = try ok("io.qsm.Broker.Login", ["username": user, "password": password ?? "\(user)-password"])
        guard let token = (session["session"] as? [String: Any])?["token"] as? String else {
            throw DaemonError("Login returned no token: \(session)")
        }
        return token
    }
}

/// Raises this process's open-file limit to `wanted` (or the hard limit); children inherit it.
func raiseOpenFileLimit(to wanted: UInt64) -> UInt64 {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < wanted {
        limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return UInt64(limit.rlim_cur)
}

/// A process's resident anonymous memory in KiB (/proc/PID/status RssAnon).
func residentKiB(_ pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("RssAnon:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// The p-th percentile (0...1) of `values`.
func percentile(_ values: [Duration], _ p: Double) -> Duration {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .zero }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// An IDS rules file with the send-flood rule off, for load tests that send far faster than a person;
/// keep the directory alive while qsmd runs.
func rulesWithoutSendFlood() throws -> (directory: TemporaryDirectory, file: String) {
    let directory = try TemporaryDirectory(prefix: "qsm-rules")
    let file = directory.appending("rules.json")
    try Data(#"{"sendFlood": {"count": 0, "windowSeconds": 60}}"#.utf8).write(to: URL(fileURLWithPath: file))
    return (directory, file)
}

/// Every event of the log in the data directory `data` (read-only, as any auditor would) and whether its
/// hash chain holds.
func readLog(_ data: String) throws -> (events: [QSMEvent], chainHolds: Bool) {
    let log = try EventStore(directory: data + "/log", mode: .readOnly)
    defer { log.close() }
    var events: [QSMEvent] = []
    try log.forEach(from: 1) { record in
        events.append(try QSMEvent(record))
        return true
    }
    return (events, try log.verify().isValid)
}

/// The hex message ids of the MessageSent events among `events`.
func sentMessageIDs(_ events: [QSMEvent]) -> Set<String> {
    Set(events.compactMap { event in
        guard case .messageSent(let sent)? = event.body else { return nil }
        return sent.messageID.map { String(format: "%02x", $0) }.joined()
    })
}
