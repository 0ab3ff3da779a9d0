import Foundation
import QSMClient
import QSMTesting

/// Bytes on qsmd's socket, below any client: for tests whose point is the wire itself (many connections
/// held open, calls pipelined and never read, frames a client would never send). Every well-formed call
/// of a test goes through QSMClient instead.
final class RawWire {
    /// One reply frame: the error's name (nil on success), whether more follow, and the parameters.
    struct Reply: Decodable {
        let error: String?
        let continues: Bool?
        let parameters: JSONValue?
    }

    let fd: Int32
    private var buffer = [UInt8]()

    init(_ path: String) throws {
        fd = socket_(path)
        guard fd >= 0 else { throw DaemonError("cannot connect to \(path): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Writes a call of `method` without parameters and without reading its reply.
    func send(_ method: String) throws {
        try write(Data(#"{"method":"\#(method)"}"#.utf8) + [0])
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
        defer { buffer.removeSubrange(...end) }
        return try JSONDecoder().decode(Reply.self, from: Data(buffer[..<end]))
    }
}
