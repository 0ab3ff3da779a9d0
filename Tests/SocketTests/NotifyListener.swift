import Foundation
import Glibc

/// The service manager's side of sd_notify(3) for tests: a datagram socket bound at a path or, with a
/// leading `@`, in the abstract namespace, collecting each message with the time it arrived.
final class NotifyListener {
    /// One datagram: its newline-separated fields and when it was received.
    struct Message {
        let fields: [String]
        let received: ContinuousClock.Instant

        func has(_ field: String) -> Bool { fields.contains(field) }
        var status: String? { fields.first { $0.hasPrefix("STATUS=") }.map { String($0.dropFirst(7)) } }
    }

    let address: String
    private let fd: Int32

    init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else { throw DaemonError("cannot bind \(address): errno \(errno)") }
    }

    deinit { close(fd) }

    /// The next datagram, or nil when none arrives within `timeout`.
    func receive(timeout: Duration = .seconds(60)) -> Message? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        return Message(fields: text.split(separator: "\n").map(String.init), received: .now)
    }

    /// Receives until a message has `field`; nil when none does within `timeout`.
    func receive(_ field: String, timeout: Duration = .seconds(60)) -> Message? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = receive(timeout: deadline - .now) else { return nil }
            if message.has(field) { return message }
        }
        return nil
    }
}
