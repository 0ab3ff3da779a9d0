import Foundation
import Glibc

/// The listening sockets a service manager handed qsmd by the `LISTEN_FDS` protocol (sd_listen_fds(3)):
/// systemd for a `.socket` unit, `systemd-socket-activate` by hand. Descriptors start at 3; `LISTEN_PID`
/// names the process they are for and `LISTEN_FDNAMES` (colon-separated) names each one, from the socket
/// unit's `FileDescriptorName=`.
///
/// qsmd knows two names: ``mainName`` for the socket serving io.qsm.Broker and io.qsm.Admin, and
/// ``gatewayName`` for the web face's gateway socket. A single socket passed without a name (systemd's
/// "unknown") is the main one. Anything else is refused: a socket qsmd would hold without serving.
public struct SocketActivation: Sendable, Equatable {
    /// The `FileDescriptorName=` of the main socket.
    public static let mainName = "varlink"
    /// The `FileDescriptorName=` of the gateway socket.
    public static let gatewayName = "gateway"
    /// The first descriptor passed (SD_LISTEN_FDS_START).
    static let firstDescriptor: Int32 = 3

    /// The main socket's descriptor, when one was passed.
    public let main: Int32?
    /// The gateway socket's descriptor, when one was passed.
    public let gateway: Int32?

    /// Reads the protocol's variables, checks every descriptor is a listening Unix stream socket, marks
    /// them close-on-exec and removes the variables (no child of qsmd should take the sockets for its own).
    /// - Parameters:
    ///   - environment: the variables to read; this process's environment by default.
    ///   - processID: the id `LISTEN_PID` must name; this process's by default.
    /// - Returns: nil when `LISTEN_FDS` is unset or 0: qsmd binds its sockets itself.
    /// - Throws: ``SocketActivationError`` naming the variable or descriptor at fault.
    public static func fromEnvironment(
        _ environment: [String: String]? = nil, processID: Int32? = nil
    ) throws(SocketActivationError) -> SocketActivation? {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let processID = processID ?? getpid()
        guard let countText = environment["LISTEN_FDS"] else { return nil }
        guard let count = Int32(countText), count >= 0, count < 1024 else {
            throw .malformed(variable: "LISTEN_FDS", value: countText)
        }
        if count == 0 { return nil }
        let pidText = environment["LISTEN_PID"] ?? ""
        guard let pid = Int32(pidText) else { throw .malformed(variable: "LISTEN_PID", value: pidText) }
        guard pid == processID else { throw .otherProcess(listenPID: pid, processID: processID) }
        let names =
            environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            ?? Array(repeating: "unknown", count: Int(count))
        guard names.count == Int(count) else { throw .nameCount(descriptors: Int(count), names: names.count) }

        var main: Int32?
        var gateway: Int32?
        for (offset, name) in names.enumerated() {
            let descriptor = firstDescriptor + Int32(offset)
            try ListeningSocket.check(descriptor, name: name)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            switch name {
            case mainName where main == nil, "unknown" where count == 1: main = descriptor
            case gatewayName where gateway == nil: gateway = descriptor
            case mainName, gatewayName: throw .duplicate(name: name)
            default: throw .unknownName(name)
            }
        }
        for variable in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"] { unsetenv(variable) }
        return SocketActivation(main: main, gateway: gateway)
    }
}

/// Why qsmd refuses the sockets it was handed.
public enum SocketActivationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A variable of the protocol does not parse.
    case malformed(variable: String, value: String)
    /// `LISTEN_PID` names another process: the sockets were meant for it.
    case otherProcess(listenPID: Int32, processID: Int32)
    /// `LISTEN_FDNAMES` names more or fewer sockets than `LISTEN_FDS` counts.
    case nameCount(descriptors: Int, names: Int)
    /// A name qsmd does not serve.
    case unknownName(String)
    /// Two sockets with the same name.
    case duplicate(name: String)
    /// A descriptor that is not a listening Unix stream socket; `found` says what it is.
    case wrongSocket(name: String, descriptor: Int32, found: String)

    public var description: String {
        switch self {
        case .malformed(let variable, let value): "\(variable)=\(value) is not a count or process id"
        case .otherProcess(let listenPID, let processID):
            "LISTEN_PID=\(listenPID) names another process (this is \(processID)): "
                + "its LISTEN_FDS sockets are not for qsmd"
        case .nameCount(let descriptors, let names):
            "LISTEN_FDNAMES names \(names) sockets but LISTEN_FDS passes \(descriptors)"
        case .unknownName(let name):
            "socket named \(name) is not one qsmd serves "
                + "(FileDescriptorName= \(SocketActivation.mainName) or \(SocketActivation.gatewayName))"
        case .duplicate(let name): "two sockets are named \(name)"
        case .wrongSocket(let name, let descriptor, let found):
            "socket \(name) (descriptor \(descriptor)) is \(found), "
                + "not a listening Unix stream socket (ListenStream=, Accept=no)"
        }
    }
}

/// Checks of a descriptor's kind by fstat and getsockopt.
enum ListeningSocket {
    static func check(_ descriptor: Int32, name: String) throws(SocketActivationError) {
        func wrong(_ found: String) -> SocketActivationError {
            .wrongSocket(name: name, descriptor: descriptor, found: found)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw wrong("not open") }
        guard status.st_mode & S_IFMT == S_IFSOCK else { throw wrong("not a socket") }
        guard let domain = option(descriptor, SO_DOMAIN), domain == AF_UNIX else {
            throw wrong("an internet socket")
        }
        switch option(descriptor, SO_TYPE) {
        case Int32(SOCK_STREAM.rawValue): break
        case Int32(SOCK_DGRAM.rawValue): throw wrong("a datagram socket")
        case Int32(SOCK_SEQPACKET.rawValue): throw wrong("a sequential-packet socket")
        default: throw wrong("a socket of another type")
        }
        guard option(descriptor, SO_ACCEPTCONN) == 1 else { throw wrong("a socket that does not listen") }
    }

    private static func option(_ descriptor: Int32, _ name: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, name, &value, &length) == 0 else { return nil }
        return value
    }

    /// The path a listening Unix socket is bound to, for logs; nil for an unnamed or abstract one.
    static func path(of descriptor: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        let path = withUnsafeBytes(of: address.sun_path) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return path.hasPrefix("/") ? path : nil
    }
}

extension SocketActivation {
    /// The path the main socket is bound to (for the ready line and `STATUS=`), or a description of it.
    public var mainDescription: String? {
        main.map { ListeningSocket.path(of: $0) ?? "descriptor \($0)" }
    }

    /// The path the gateway socket is bound to, or a description of it.
    public var gatewayDescription: String? {
        gateway.map { ListeningSocket.path(of: $0) ?? "descriptor \($0)" }
    }
}
