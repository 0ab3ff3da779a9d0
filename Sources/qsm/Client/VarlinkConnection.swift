import Foundation

/// A Varlink error reply: its qualified name and parameters.
struct VarlinkCallError: Error, CustomStringConvertible {
    let name: String
    /// The user-facing line, worked out once (the parameters themselves are not Sendable).
    let description: String

    init(name: String, parameters: [String: Any]) {
        self.name = name
        description = VarlinkCallError.explain(name, parameters)
    }

    /// One clear line for a user.
    static func explain(_ name: String, _ p: [String: Any]) -> String {
        let short = name.split(separator: ".").last.map(String.init) ?? name
        switch short {
        case "AuthenticationFailed": return "wrong username or password"
        case "AccountLocked": return "account locked after repeated failed logins: try again in \(p["retryAfterSeconds"] ?? "?") s"
        case "InvalidSession": return "not logged in (\(p["reason"] ?? "no session")): run qsm login USER"
        case "UserExists": return "the username \(p["username"] ?? "") is taken"
        case "NoSuchUser": return "no user named \(p["username"] ?? "")"
        case "NoSuchMessage": return "no message \(p["messageId"] ?? "")"
        case "AccessDenied": return "access denied: \(p["resource"] ?? "not yours") (recorded)"
        case "EavesdroppingDetected":
            return "key exchange aborted, possible eavesdropper: QBER \(p["qber"] ?? "?"), bound \(p["qberUpperBound"] ?? "?") over the threshold \(p["threshold"] ?? "?")"
        case "InsufficientKeyMaterial": return "not enough BB84 key: \(p["availableBytes"] ?? "?") bytes, \(p["neededBytes"] ?? "?") needed"
        case "InvalidInput": return "invalid \(p["field"] ?? "input"): \(p["reason"] ?? "")"
        case "Throttled": return "too many messages: sending resumes in \(p["retryAfterSeconds"] ?? "?") s"
        case "PermissionDenied": return "permission denied: administrators only"
        case "MethodNotFound": return "the daemon does not know \(p["method"] ?? "this method")"
        case "InterfaceNotFound": return "the daemon does not serve \(p["interface"] ?? "this interface")"
        case "InvalidParameter": return "invalid parameter \(p["parameter"] ?? "")"
        default:
            let detail = p.isEmpty ? "" : " " + (String(data: (try? JSONSerialization.data(withJSONObject: p, options: [.sortedKeys])) ?? Data(), encoding: .utf8) ?? "")
            return "\(name)\(detail)"
        }
    }
}

/// Why talking to the daemon failed.
struct ConnectionError: Error, CustomStringConvertible {
    let description: String
}

/// A blocking Varlink client on a Unix socket: NUL-terminated JSON calls and replies.
final class VarlinkConnection {
    private let descriptor: Int32
    private var buffer = [UInt8]()

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ConnectionError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw ConnectionError(description: "socket path too long (at most 107 bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw ConnectionError(description: "cannot reach qsmd at \(path): \(reason) (is it running? tools/run starts it)")
        }
    }

    deinit { close(descriptor) }

    /// Calls `method` and returns its reply's parameters, or throws its error.
    func call(_ method: String, _ parameters: [String: Any] = [:]) throws -> [String: Any] {
        try send(method, parameters, more: false)
        return try readReply().parameters
    }

    /// Calls `method` with `more` and hands each reply to `body` until the last one (or `body` says stop).
    func stream(_ method: String, _ parameters: [String: Any] = [:], _ body: ([String: Any]) throws -> Bool) throws {
        try send(method, parameters, more: true)
        while true {
            let reply = try readReply()
            guard try body(reply.parameters), reply.continues else { return }
        }
    }

    private func send(_ method: String, _ parameters: [String: Any], more: Bool) throws {
        var call: [String: Any] = ["method": method, "parameters": parameters]
        if more { call["more"] = true }
        var data = try JSONSerialization.data(withJSONObject: call)
        data.append(0)
        try data.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let count = write(descriptor, raw.baseAddress! + sent, raw.count - sent)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw ConnectionError(description: "qsmd closed the connection") }
                sent += count
            }
        }
    }

    private func readReply() throws -> (parameters: [String: Any], continues: Bool) {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let frame = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let reply = try JSONSerialization.jsonObject(with: frame) as? [String: Any] else {
                    throw ConnectionError(description: "qsmd sent a reply that is not a JSON object")
                }
                let parameters = reply["parameters"] as? [String: Any] ?? [:]
                if let error = reply["error"] as? String { throw VarlinkCallError(name: error, parameters: parameters) }
                return (parameters, reply["continues"] as? Bool ?? false)
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ConnectionError(description: "qsmd closed the connection before replying") }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
