import Foundation
import Glibc

/// Runs blocking work on its own thread, so blocking socket calls never hold a cooperative-pool thread
/// that the server under test needs.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking Varlink client on a plain POSIX socket: it sends exactly the bytes a test gives it.
final class TestClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(path: String, receiveTimeoutSeconds: Int = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw TestClientError(description: "connect: \(errno)")
        }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestClientError(description: "send: \(errno)") }
            offset += written
        }
    }

    /// Sends a JSON text followed by NUL.
    func send(_ json: String) throws { try send(Array(json.utf8) + [0]) }

    /// The next message's raw bytes, or nil at end of stream (or on a reset connection).
    func receiveRaw() throws -> [UInt8]? {
        while true {
            if let nul = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<nul])
                buffer.removeFirst(nul + 1)
                return message
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno == ECONNRESET) { return nil }
            guard count > 0 else { throw TestClientError(description: "recv: \(errno)") }
            buffer += chunk[..<count]
        }
    }

    /// The next message, parsed; nil at end of stream.
    func receive() throws -> Reply? {
        guard let raw = try receiveRaw() else { return nil }
        guard let object = try JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any] else {
            throw TestClientError(description: "reply is not an object: \(String(decoding: raw, as: UTF8.self))")
        }
        return Reply(object: object)
    }

    /// Sends a call and returns its (first) reply.
    func call(_ json: String) throws -> Reply {
        try send(json)
        guard let reply = try receive() else { throw TestClientError(description: "connection closed") }
        return reply
    }

    /// Whether the server closed the connection (reads until end of stream, at most `seconds`).
    func waitForClose() throws -> Bool {
        while true {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno == ECONNRESET) { return true }
            if count < 0 { return false }
        }
    }
}

/// A parsed reply (Foundation's JSON objects are not Sendable; replies are only read).
struct Reply: @unchecked Sendable {
    let object: [String: Any]
    var error: String? { object["error"] as? String }
    var parameters: [String: Any] { object["parameters"] as? [String: Any] ?? [:] }
    var continues: Bool { object["continues"] as? Bool ?? false }
}
