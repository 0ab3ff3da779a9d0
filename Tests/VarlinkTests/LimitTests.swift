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
            try await Task.sleep(for: .milliseconds(200))
            // Others are still served while the flood is stuck.
            let info = try await offload { try TestClient(path: path).call(#"{"method":"org.varlink.service.GetInfo"}"#) }
            #expect(info.error == nil)
            var waited = 0
            while server.connectionCount > 0 && waited < 100 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(server.connectionCount == 0, "the stalled connection is closed")
            let sent = counter.current
            // Kernel socket buffers plus the 64 KiB watermark: a few dozen 16 KiB chunks, not an unbounded pile.
            #expect(sent < 200, "\(sent) chunks were produced for a client that never reads")
            try await Task.sleep(for: .milliseconds(200))
            #expect(counter.current == sent, "the handler stopped")
            _ = reader
        }
    }
}
