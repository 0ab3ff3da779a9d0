public import Foundation

/// Why a ``VarlinkClient`` call failed: the connection, or an error reply.
public enum VarlinkClientError: Error, Sendable, CustomStringConvertible {
    /// The socket could not be reached, or closed, or sent something that is not a reply.
    case connection(String)
    /// The service answered with the error `name`; `parametersJSON` is its parameters as JSON.
    case reply(name: String, parametersJSON: Data)

    /// The error reply's parameters (empty for connection errors).
    public var parameters: [String: Any] {
        guard case .reply(_, let json) = self else { return [:] }
        return (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] ?? [:]
    }

    public var description: String {
        switch self {
        case .connection(let reason): reason
        case .reply(let name, let json): "\(name) \(String(decoding: json, as: UTF8.self))"
        }
    }
}

/// A blocking Varlink client on a Unix socket, one call at a time: for command lines, scripts and
/// benchmarks that need no event loop. Parameters and replies are Foundation JSON objects.
public final class VarlinkClient {
    private let descriptor: Int32
    private var buffer = [UInt8]()

    /// Connects to the socket at `path`.
    public init(socketPath path: String) throws(VarlinkClientError) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .connection("cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw .connection("socket path too long (at most 107 bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .connection("cannot reach \(path): \(reason)")
        }
    }

    deinit { close(descriptor) }

    /// Who serves the socket, as the kernel recorded it when the server called listen (`SO_PEERCRED`):
    /// check it before sending a password or token, since anyone who can write the socket's directory
    /// can put a socket there.
    public func serverCredentials() throws(VarlinkClientError) -> PeerCredentials {
        // Linux's struct ucred, which Glibc does not expose to Swift.
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0,
              Int(length) == MemoryLayout.size(ofValue: credentials)
        else {
            throw .connection("cannot read the server's credentials: \(String(cString: strerror(errno)))")
        }
        return PeerCredentials(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
    }

    /// Calls `method` and returns its reply's parameters, or throws its error reply.
    public func call(_ method: String, _ parameters: [String: Any] = [:]) throws(VarlinkClientError) -> [String: Any] {
        try send(method, parameters, more: false)
        return try readReply().parameters
    }

    /// Calls `method` with `more` and hands each reply to `body` until the last one or until `body`
    /// returns false.
    public func stream(
        _ method: String, _ parameters: [String: Any] = [:], _ body: ([String: Any]) throws -> Bool
    ) throws {
        try send(method, parameters, more: true)
        while true {
            let reply = try readReply()
            guard try body(reply.parameters), reply.continues else { return }
        }
    }

    private func send(_ method: String, _ parameters: [String: Any], more: Bool) throws(VarlinkClientError) {
        var call: [String: Any] = ["method": method, "parameters": parameters]
        if more { call["more"] = true }
        guard var data = try? JSONSerialization.data(withJSONObject: call) else {
            throw .connection("the parameters of \(method) are not JSON")
        }
        data.append(0)
        var sent = 0
        while sent < data.count {
            // MSG_NOSIGNAL: a service that closes mid-call (a frame over its limit) is an error to report,
            // not a SIGPIPE that kills the caller without a word.
            let count = data.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                // The service may have said why before it closed (FrameTooLarge): that reply is the answer.
                do { _ = try readReply() } catch {
                    if case .reply = error { throw error }
                }
                throw .connection("the service closed the connection")
            }
            sent += count
        }
    }

    private func readReply() throws(VarlinkClientError) -> (parameters: [String: Any], continues: Bool) {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let frame = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let reply = (try? JSONSerialization.jsonObject(with: frame)) as? [String: Any] else {
                    throw .connection("the service sent a reply that is not a JSON object")
                }
                let parameters = reply["parameters"] as? [String: Any] ?? [:]
                if let error = reply["error"] as? String {
                    let json = (try? JSONSerialization.data(withJSONObject: parameters)) ?? Data("{}".utf8)
                    throw .reply(name: error, parametersJSON: json)
                }
                return (parameters, reply["continues"] as? Bool ?? false)
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .connection("the service closed the connection before replying") }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
