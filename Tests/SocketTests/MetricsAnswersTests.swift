import Foundation
import QSMTesting
import Testing

/// The metrics endpoint's answers besides a scrape: 404 and 405, HEAD without a body, IPv6 and
/// IPv4-mapped loopback addresses, and the close of a connection left idle.
@Suite("qsmd --metrics-listen: answers, addresses and idle connections")
struct MetricsAnswersTests {
    @Test func unknownPathsAre404PostIs405AndHeadHasNoBody() async throws {
        let port = try DashboardChecks.freePort()
        let daemon = try await Daemon(arguments: ["--metrics-listen", "127.0.0.1:\(port)"])
        let missing = try HTTPProbe.exchange("127.0.0.1", port, "GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(missing.status == 404, "\(missing.head)")
        let post = try HTTPProbe.exchange(
            "127.0.0.1", port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        #expect(post.status == 405, "\(post.head)")
        #expect(post.head.lowercased().contains("\r\nallow: get, head"), "\(post.head)")

        let get = try HTTPProbe.exchange("127.0.0.1", port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(get.status == 200 && get.body.contains("qsm_"), "\(get.head)")
        let head = try HTTPProbe.exchange("127.0.0.1", port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(head.status == 200, "\(head.head)")
        #expect((head.header("content-length").flatMap(Int.init) ?? 0) > 0, "HEAD names the length a GET would send: \(head.head)")
        #expect(head.body.isEmpty, "HEAD answered with a body of \(head.body.utf8.count) bytes")
        #expect(try await daemon.stop() == 0)
    }

    @Test func ipv6AndIPv4MappedLoopbackAreServedAndMappedRemoteIsRefused() async throws {
        guard HTTPProbe.hasIPv6Loopback() else {
            print("metrics-ipv6: SKIPPED (no ::1 on this machine)")
            return
        }
        let port = try DashboardChecks.freePort()
        let daemon = try await Daemon(arguments: ["--metrics-listen", "[::1]:\(port)"])
        let scrape = try HTTPProbe.exchange("::1", port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(scrape.status == 200 && scrape.body.contains("qsm_"), "\(scrape.head)")
        #expect(try await daemon.stop() == 0)

        // ::ffff:127.0.0.1 is loopback (in either spelling) and reaches IPv4 clients of 127.0.0.1.
        for mapped in ["::ffff:127.0.0.1", "::ffff:7f00:1"] {
            let mappedPort = try DashboardChecks.freePort()
            let served = try await Daemon(arguments: ["--metrics-listen", "[\(mapped)]:\(mappedPort)"])
            let viaIPv4 = try HTTPProbe.exchange("127.0.0.1", mappedPort, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(viaIPv4.status == 200, "\(mapped): \(viaIPv4.head)")
            #expect(try await served.stop() == 0)
        }

        // A mapped address outside 127/8, or an IPv6 address that only looks like ::1, is no loopback.
        let directory = try TemporaryDirectory(prefix: "qsm-metrics")
        for address in ["[::ffff:192.0.2.1]:\(port)", "[::ffff:c000:201]:\(port)", "[::2]:\(port)", "[1::1]:\(port)"] {
            let (status, _, err) = try await ChildProcess.run(Products.qsmd, [
                "--data", directory.appending("data"), "--socket", directory.appending("qsm.sock"), "--metrics-listen", address,
            ])
            #expect(status == 64 && err.contains("not a loopback"), "\(address): \(status) \(err)")
        }
    }

    /// A scraper's kept-alive connection that then says nothing is closed by the endpoint (after its
    /// read timeout of a minute); the test waits for the close with a bound, asserting no timing.
    @Test func anIdleConnectionIsClosed() async throws {
        let port = try DashboardChecks.freePort()
        let daemon = try await Daemon(arguments: ["--metrics-listen", "127.0.0.1:\(port)"])
        let fd = try HTTPProbe.connect("127.0.0.1", port)
        defer { close(fd) }
        try HTTPProbe.write(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = try HTTPProbe.readUntil(fd, bound: .seconds(30)) { $0.contains("\r\n\r\n") }
        #expect(answer.data.hasPrefix("HTTP/1.1 200"), "\(answer.data.prefix(80))")
        #expect(!answer.closed, "a kept-alive scrape closed at once")
        // Nothing more is sent: the endpoint must close the connection by itself.
        let rest = try HTTPProbe.readUntil(fd, bound: .seconds(180)) { _ in false }
        #expect(rest.closed, "the idle connection was still open after 180 s")
        #expect(try await daemon.stop() == 0)
    }
}

/// A blocking TCP client for raw HTTP/1.1 exchanges with the metrics endpoint.
enum HTTPProbe {
    struct Response {
        let head: String
        let body: String
        var status: Int { Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0 }

        func header(_ name: String) -> String? {
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name { return parts[1].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }
    }

    /// Whether this machine can bind ::1.
    static func hasIPv6Loopback() -> Bool {
        guard let fd = try? connect("::1", 0, bindOnly: true) else { return false }
        close(fd)
        return true
    }

    /// A connected TCP socket to `host` (a numeric address) and `port`; with `bindOnly`, a socket bound there.
    static func connect(_ host: String, _ port: Int, bindOnly: Bool = false) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let info = found else {
            throw DaemonError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw DaemonError("socket: errno \(errno)") }
        let result = bindOnly ? bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            : Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
        guard result == 0 else {
            close(fd)
            throw DaemonError("\(bindOnly ? "bind" : "connect") \(host) port \(port): errno \(errno)")
        }
        return fd
    }

    static func write(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw DaemonError("write: errno \(errno)") }
            offset += written
        }
    }

    /// Reads until `done` holds for what has arrived, the peer closes, or `bound` passes.
    static func readUntil(_ fd: Int32, bound: Duration, _ done: (String) -> Bool) throws -> (data: String, closed: Bool) {
        let deadline = ContinuousClock.now + bound
        var data = [UInt8]()
        while ContinuousClock.now < deadline {
            if done(String(decoding: data, as: UTF8.self)) { return (String(decoding: data, as: UTF8.self), false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return (String(decoding: data, as: UTF8.self), true) }
            data += chunk[..<count]
        }
        return (String(decoding: data, as: UTF8.self), false)
    }

    /// Sends `request` and reads the answer until the endpoint closes (the request says Connection: close).
    static func exchange(_ host: String, _ port: Int, _ request: String) throws -> Response {
        let fd = try connect(host, port)
        defer { close(fd) }
        try write(fd, request)
        let (text, closed) = try readUntil(fd, bound: .seconds(30)) { _ in false }
        guard closed else { throw DaemonError("the endpoint did not close after Connection: close: \(text.prefix(200))") }
        let parts = text.components(separatedBy: "\r\n\r\n")
        return Response(head: parts[0], body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}
