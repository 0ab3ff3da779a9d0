import Foundation
import Glibc
import Testing
import Varlink

@Suite("Limits and slow clients")
struct LimitTests {
    @Test func connectionLimit() async throws {
        try await withTestServer(configure: { $0.maxConnections = 2 }) { path, server in
            try await offload {
                var first: TestClient? = try TestClient(path: path)
                let second = try TestClient(path: path)
                #expect(try first?.call(#"{"method":"org.varlink.service.GetInfo"}"#).error == nil)
                #expect(try second.call(#"{"method":"org.varlink.service.GetInfo"}"#).error == nil)
                let third = try TestClient(path: path)
                #expect(try third.waitForClose())
                first = nil
                // Once a slot is free, new connections are served again.
                var served = false
                for _ in 0..<50 where !served {
                    usleep(20_000)
                    let next = try TestClient(path: path, receiveTimeoutSeconds: 2)
                    served = (try? next.call(#"{"method":"org.varlink.service.GetInfo"}"#))?.error == nil
                }
                #expect(served)
            }
            #expect(server.connectionCount <= 2)
        }
    }

    @Test func idleConnectionsAreClosedButLongCallsAreNot() async throws {
        // One second of idleness, replies 1.3 s apart: generous enough that a loaded CI machine does not
        // let the idle limit expire between connecting and the call arriving.
        try await withTestServer(configure: { $0.idleTimeout = .seconds(1) }) { path, _ in
            try await offload {
                let idle = try TestClient(path: path)
                let start = Date()
                #expect(try idle.waitForClose())
                #expect(Date().timeIntervalSince(start) >= 0.9)
                // A call that runs longer than the idle limit is not cut off.
                let busy = try TestClient(path: path)
                try busy.send(#"{"method":"org.example.test.Stream","more":true,"parameters":{"count":2,"delayMs":1300}}"#)
                #expect(try busy.receive()?.parameters["index"] as? Int == 0)
                #expect(try busy.receive()?.parameters["index"] as? Int == 1)
            }
        }
    }

    @Test func clientThatNeverReadsIsBoundedAndClosed() async throws {
        let counter = Counter()
        try await withTestServer(
            configure: {
                $0.stallTimeout = .milliseconds(500)
                $0.outboundHighWatermark = 64 * 1024
            }, floodCounter: counter
        ) { path, server in
            let reader = try await offload { () -> TestClient in
                let client = try TestClient(path: path)
                try client.send(#"{"method":"org.example.test.Flood","more":true,"parameters":{"size":16384}}"#)
                return client
            }
            // Once the flood is producing (an event, not a time), others are still served while it is stuck.
            var started = 0
            while counter.current == 0 && started < 1200 {
                try await Task.sleep(for: .milliseconds(50))
                started += 1
            }
            try #require(counter.current > 0, "the flood did not start within 60 s")
            let info = try await offload { try TestClient(path: path).call(#"{"method":"org.varlink.service.GetInfo"}"#) }
            #expect(info.error == nil)
            var waited = 0
            while (server.connectionCount > 0 || counter.handlersEnded == 0) && waited < 1200 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(server.connectionCount == 0, "the stalled connection is closed")
            #expect(counter.handlersEnded == 1, "the flood's handler returned")
            let sent = counter.current
            // Kernel socket buffers plus the 64 KiB watermark: a few dozen 16 KiB chunks, not an unbounded pile.
            #expect(sent < 200, "\(sent) chunks were produced for a client that never reads")
            _ = reader
        }
    }

    /// Issue 16: a peer that trickles a call a byte at a time, never finishing it, kept its connection open
    /// forever because every byte reset the idle timer. Only whole messages count: it is closed at the limit.
    @Test func tricklingIsNotActivity() async throws {
        try await withTestServer(configure: { $0.idleTimeout = .seconds(1) }) { path, _ in
            let closedAfter = try await offload { () -> Double? in
                let client = try TestClient(path: path)
                let start = Date()
                let partial = Array(#"{"method":"org.example.test.Echo","parameters":{"text":""#.utf8)
                    + [UInt8](repeating: UInt8(ascii: "x"), count: 64)
                for byte in partial {
                    usleep(200_000)
                    if isClosed(client) { return Date().timeIntervalSince(start) }
                    _ = try? client.send([byte])
                }
                return nil
            }
            let after = try #require(closedAfter, "a connection trickling a byte every 200 ms stayed open for 16 s")
            #expect(after >= 0.9 && after < 4, "closed after \(after) s with a 1 s idle limit")
        }
    }

    /// Connections, calls and streams per uid (the test process's uid, made unprivileged): the ones beyond
    /// each limit are refused while the others go on; privileged peers are not limited per uid.
    @Test func connectionsCallsAndStreamsArePerUID() async throws {
        try await withTestServer(configure: { configuration in
            configuration.isPrivileged = { _ in false }
            configuration.maxConnectionsPerUID = 3
            configuration.maxCallsPerUID = 1
            configuration.maxStreamsPerUID = 1
        }) { path, server in
            try await offload {
                let clients = try (0..<3).map { _ in try TestClient(path: path) }
                for client in clients { #expect(try client.call(#"{"method":"org.varlink.service.GetInfo"}"#).error == nil) }
                let fourth = try TestClient(path: path)
                #expect(try fourth.waitForClose(), "a fourth connection of the uid is closed")

                try clients[0].send(#"{"method":"org.example.test.Stream","more":true,"parameters":{"count":2,"delayMs":1500}}"#)
                try clients[1].send(#"{"method":"org.example.test.Wait","parameters":{"delayMs":1500}}"#)
                usleep(300_000)
                let stream = try clients[2].call(#"{"method":"org.example.test.Stream","more":true,"parameters":{"count":1}}"#)
                #expect(stream.error == "org.varlink.server.TooManyStreams")
                #expect(stream.parameters["limit"] as? Int == 1)
                let call = try clients[2].call(#"{"method":"org.example.test.Echo","parameters":{"text":"x"}}"#)
                #expect(call.error == "org.varlink.server.TooManyCalls")
                // The refused connection goes on, and the running calls finish.
                #expect(try clients[0].receive()?.parameters["index"] as? Int == 0)
                #expect(try clients[1].receive()?.error == nil)
                #expect(try clients[0].receive()?.parameters["index"] as? Int == 1)
                #expect(try clients[2].call(#"{"method":"org.example.test.Echo","parameters":{"text":"x"}}"#).error == nil)
                // The server counts a call finished after writing its last reply, so the client can read
                // that reply first: give the count a moment to settle.
                var usage = server.usage(uid: getuid())
                let deadline = Date().addingTimeInterval(5)
                while !(usage.calls == 0 && usage.streams == 0), Date() < deadline {
                    usleep(10_000)
                    usage = server.usage(uid: getuid())
                }
                #expect(usage.connections == 3 && usage.calls == 0 && usage.streams == 0, "\(usage)")
            }
        }
        try await withTestServer(configure: { configuration in
            configuration.isPrivileged = { _ in true }
            configuration.maxConnectionsPerUID = 3
        }) { path, _ in
            try await offload {
                let clients = try (0..<6).map { _ in try TestClient(path: path) }
                for client in clients { #expect(try client.call(#"{"method":"org.varlink.service.GetInfo"}"#).error == nil) }
            }
        }
    }

    /// The last reservedConnections of maxConnections are for privileged peers only.
    @Test func reservedConnectionsAreKeptForPrivilegedPeers() async throws {
        try await withTestServer(configure: { configuration in
            configuration.isPrivileged = { _ in false }
            configuration.maxConnections = 4
            configuration.reservedConnections = 2
        }) { path, _ in
            try await offload {
                let clients = try (0..<2).map { _ in try TestClient(path: path) }
                for client in clients { #expect(try client.call(#"{"method":"org.varlink.service.GetInfo"}"#).error == nil) }
                #expect(try TestClient(path: path).waitForClose(), "an unprivileged peer may not take a reserved slot")
            }
        }
    }

    /// Pipelined messages and a partial one, from connections whose call runs long: the server stops
    /// reading at the limit per connection and per uid (the rest waits in the kernel's socket buffers) and
    /// takes the messages once the call ends. Connections wedged by their uid's budget with no call running
    /// are closed after the stall limit, and the uid is served again.
    @Test func bufferedInputIsBoundedPerConnectionAndPerUID() async throws {
        let frameLimit = 256 * 1024
        let perConnection = 300 * 1024
        let perUID = 1024 * 1024
        try await withTestServer(configure: { configuration in
            configuration.isPrivileged = { _ in false }
            configuration.maxFrameSize = frameLimit
            configuration.maxInputBytesPerConnection = perConnection
            configuration.maxInputBytesPerUID = perUID
            configuration.stallTimeout = .milliseconds(500)
        }) { path, server in
            let uid = getuid()
            let text = String(repeating: "m", count: frameLimit - 100)
            // Large calls with small replies (Echo returns only its text), so the replies never fill the socket.
            let message = Array(#"{"method":"org.example.test.Echo","parameters":{"text":"x","tags":["\#(text)"]}}"#.utf8) + [0]
            let burst = message + message + message + message
                + Array(#"{"method":"org.example.test.Echo","parameters":{"text":""#.utf8) + Array(text.utf8)
            @Sendable func attack() throws -> (TestClient, Int) {
                let client = try TestClient(path: path)
                try client.send(#"{"method":"org.example.test.Wait","parameters":{"delayMs":1500}}"#)
                return (client, sendWithoutWaiting(client, burst))
            }

            // One connection: at most its own limit plus one read; once its call ends, the rest arrives and
            // every pipelined message is answered in order.
            let single = try await offload { try attack() }
            try await Task.sleep(for: .milliseconds(500))
            let one = server.usage(uid: uid).inputBytes
            #expect(one > 0 && one <= perConnection + 64 * 1024, "one connection buffers \(one) bytes")
            let answered = try await offload { () -> Int in
                let (client, sent) = single
                try client.send(Array(burst[sent...]))
                var count = 0
                for _ in 0..<5 where (try client.receive())?.error == nil { count += 1 }
                return count
            }
            #expect(answered == 5)

            // Eight at once: the uid's total stays at its limit plus one read each.
            let many = try await offload { try (0..<8).map { _ in try attack() } }
            try await Task.sleep(for: .milliseconds(500))
            let all = server.usage(uid: uid).inputBytes
            #expect(all > 0 && all <= perUID + 9 * 64 * 1024, "eight connections buffer \(all) bytes")

            // After the calls, those wedged are closed; the uid gets a new connection served.
            try await Task.sleep(for: .seconds(3))
            let served = try await offload {
                try TestClient(path: path).call(#"{"method":"org.example.test.Echo","parameters":{"text":"x"}}"#)
            }
            #expect(served.error == nil)
            withExtendedLifetime(single) {}
            withExtendedLifetime(many) {}
        }
    }

    /// Input of closed connections is released: none is left counted against the uid.
    @Test func closedConnectionsReleaseTheirInput() async throws {
        try await withTestServer(configure: { $0.isPrivileged = { _ in false } }) { path, server in
            try await offload {
                for _ in 0..<4 {
                    let client = try TestClient(path: path)
                    try client.send(#"{"method":"org.example.test.Wait","parameters":{"delayMs":100}}"#)
                    _ = sendWithoutWaiting(client, Array(#"{"method":"org.example.test.Echo","parameters":{"text":""#.utf8)
                        + [UInt8](repeating: UInt8(ascii: "p"), count: 100_000))
                }
            }
            var left = server.usage(uid: getuid())
            for _ in 0..<100 where left.inputBytes > 0 || left.connections > 0 {
                try await Task.sleep(for: .milliseconds(50))
                left = server.usage(uid: getuid())
            }
            #expect(left.inputBytes == 0 && left.connections == 0, "\(left)")
        }
    }
}

/// Whether the server closed the client's connection (end of stream waiting to be read).
private func isClosed(_ client: TestClient) -> Bool {
    var byte: UInt8 = 0
    let count = recv(client.fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
    return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
}

/// Sends as much of `bytes` as the socket takes without blocking; the number sent.
private func sendWithoutWaiting(_ client: TestClient, _ bytes: [UInt8]) -> Int {
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes {
            Glibc.send(client.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
        guard written > 0 else { break }
        offset += written
    }
    return offset
}
