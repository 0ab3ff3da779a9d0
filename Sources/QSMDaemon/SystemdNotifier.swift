import Foundation
import Glibc

/// Tells the service manager how qsmd is doing (sd_notify(3)): one datagram per message to the Unix socket
/// `NOTIFY_SOCKET` names, a path or, with a leading `@`, a name in the abstract namespace. systemd sets it
/// for `Type=notify` units; `WATCHDOG_USEC` asks for a `WATCHDOG=1` at least that often.
///
/// The socket is connected once, at start: a `NOTIFY_SOCKET` nobody listens on is found before anything
/// is created, instead of a daemon that serves while its unit times out waiting for `READY=1`.
public final class SystemdNotifier: Sendable {
    private let descriptor: Int32
    /// What `NOTIFY_SOCKET` said, for messages.
    public let address: String
    /// How often the watchdog must hear from qsmd (`WATCHDOG_USEC`), when it is on for this process.
    public let watchdogInterval: Duration?

    /// Connects to `NOTIFY_SOCKET` when it is set.
    /// - Parameters:
    ///   - environment: the variables to read; this process's environment by default.
    ///   - processID: this process's id by default; a `WATCHDOG_PID` naming another leaves the watchdog off.
    /// - Returns: nil when `NOTIFY_SOCKET` is unset: qsmd was started by hand.
    /// - Throws: ``SystemdNotifierError`` when the variable is malformed or nobody listens there.
    public static func fromEnvironment(
        _ environment: [String: String]? = nil, processID: Int32? = nil
    ) throws(SystemdNotifierError) -> SystemdNotifier? {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let processID = processID ?? getpid()
        guard let address = environment["NOTIFY_SOCKET"] else { return nil }
        var watchdog: Duration?
        if let text = environment["WATCHDOG_USEC"] {
            guard let microseconds = Int64(text), microseconds > 0 else {
                throw .malformed(variable: "WATCHDOG_USEC", value: text)
            }
            let forUs = environment["WATCHDOG_PID"].map { Int32($0) == processID } ?? true
            if forUs { watchdog = .microseconds(microseconds) }
        }
        return try SystemdNotifier(address: address, watchdogInterval: watchdog)
    }

    init(address: String, watchdogInterval: Duration?) throws(SystemdNotifierError) {
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        guard abstract || bytes.first == UInt8(ascii: "/"), bytes.count > 1 else {
            throw .malformed(variable: "NOTIFY_SOCKET", value: address)
        }
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard bytes.count < capacity else { throw .malformed(variable: "NOTIFY_SOCKET", value: address) }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: bytes) }
        // An abstract name is exactly its bytes (NULs count); a path ends at its NUL.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .unreachable(address: address, reason: String(cString: strerror(errno))) }
        let connected = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .unreachable(address: address, reason: reason)
        }
        self.descriptor = descriptor
        self.address = address
        self.watchdogInterval = watchdogInterval
    }

    deinit { close(descriptor) }

    /// Sends `fields` (such as `["READY=1", "STATUS=..."]`) as one datagram, newline-separated.
    /// - Returns: false when the manager did not take it (it went away, or its queue is full).
    @discardableResult
    public func send(_ fields: [String]) -> Bool {
        let message = Array(fields.joined(separator: "\n").utf8)
        let sent = message.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return sent == message.count
    }
}

/// Why qsmd cannot talk to its service manager.
public enum SystemdNotifierError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A variable that does not parse.
    case malformed(variable: String, value: String)
    /// Nothing takes datagrams at `NOTIFY_SOCKET`.
    case unreachable(address: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let variable, let value):
            variable == "NOTIFY_SOCKET"
                ? "NOTIFY_SOCKET=\(value) is neither an absolute socket path nor an @abstract name"
                : "\(variable)=\(value) is not a positive number of microseconds"
        case .unreachable(let address, let reason): "NOTIFY_SOCKET=\(address) cannot be reached: \(reason)"
        }
    }
}
