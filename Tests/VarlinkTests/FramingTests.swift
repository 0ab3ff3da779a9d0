import Foundation
import Testing
import Varlink

@Suite("Framing and bad input")
struct FramingTests {
    @Test func partialFramesAreReassembled() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                let bytes = Array(#"{"method":"org.example.test.Echo","parameters":{"text":"split"}}"#.utf8) + [0]
                for piece in [bytes[0..<5], bytes[5..<30], bytes[30...]] {
                    try client.send(Array(piece))
                    usleep(50_000)
                }
                let reply = try #require(try client.receive())
                #expect(reply.parameters["text"] as? String == "split")
            }
        }
    }

    @Test func manyFramesInOneWrite() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                var bytes: [UInt8] = []
                for index in 0..<50 {
                    bytes += Array(#"{"method":"org.example.test.Echo","parameters":{"text":"m\#(index)"}}"#.utf8) + [0]
                }
                try client.send(bytes)
                for index in 0..<50 {
                    let reply = try #require(try client.receive())
                    #expect(reply.parameters["text"] as? String == "m\(index)")
                }
            }
        }
    }

    @Test func oversizedFrameGetsErrorAndClose() async throws {
        try await withTestServer(configure: { $0.maxFrameSize = 1024 }) { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                // No NUL at all: the limit must trigger before the frame ends.
                try client.send([UInt8](repeating: UInt8(ascii: "a"), count: 4096))
                let reply = try #require(try client.receive())
                #expect(reply.error == "org.varlink.server.FrameTooLarge")
                #expect(try client.waitForClose())
                // A frame of exactly the limit is still accepted.
                let other = try TestClient(path: path)
                let text = String(repeating: "y", count: 1024 - 59)
                let call = #"{"method":"org.example.test.Echo","parameters":{"text":"\#(text)"}}"#
                #expect(call.utf8.count == 1024)
                #expect(try other.call(call).parameters["text"] as? String == text)
            }
        }
    }

    @Test(arguments: [
        Array(#"{"method": "org.example.test.Echo", "#.utf8),
        Array("garbage \u{1}\u{2}".utf8),
        Array(#"["not", "an", "object"]"#.utf8),
        Array(#"{"parameters": {}}"#.utf8),
        Array(#"{"method": "NoDot"}"#.utf8),
        Array(#"{"method": "org.example.test.Echo", "more": "yes"}"#.utf8),
        // A member named twice could be read two ways (most parsers keep the last): refused.
        Array(#"{"method": "org.example.test.Echo", "method": "org.varlink.service.GetInfo"}"#.utf8),
        Array(#"{"method": "org.example.test.Echo", "parameters": {"a": 1, "a": 2}}"#.utf8),
    ])
    func invalidMessageGetsErrorAndClose(frame: [UInt8]) async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                try client.send(frame + [0])
                let reply = try #require(try client.receive())
                #expect(reply.error == "org.varlink.server.InvalidMessage")
                #expect(try client.waitForClose())
            }
        }
    }

    @Test func invalidUTF8GetsErrorAndClose() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                var frame = Array(#"{"method":"org.example.test.Echo","parameters":{"text":"a"#.utf8)
                frame += [0xC3, 0x28, 0xFF]
                frame += Array(#""}}"#.utf8) + [0]
                try client.send(frame)
                let reply = try #require(try client.receive())
                #expect(reply.error == "org.varlink.server.InvalidMessage")
                #expect((reply.parameters["reason"] as? String)?.contains("UTF-8") == true)
                #expect(try client.waitForClose())
            }
        }
    }

    @Test func deepNestingIsRefusedWithoutCrashing() async throws {
        try await withTestServer { path, _ in
            try await offload {
                // A million levels (within the 1 MiB frame limit).
                let client = try TestClient(path: path)
                try client.send([UInt8](repeating: UInt8(ascii: "["), count: 1_000_000) + [0])
                let reply = try #require(try client.receive())
                #expect(reply.error == "org.varlink.server.InvalidMessage")
                #expect((reply.parameters["reason"] as? String)?.contains("nested") == true)
                // Nesting within the limit is fine.
                let nested = String(repeating: "[", count: 30) + String(repeating: "]", count: 30)
                let other = try TestClient(path: path)
                let reply2 = try other.call(
                    #"{"method":"org.example.test.Echo","parameters":{"text":"ok","extra":\#(nested)}}"#)
                #expect(reply2.parameters["text"] as? String == "ok")
            }
        }
    }

    @Test func unterminatedFrameAtEndOfStreamIsDropped() async throws {
        try await withTestServer { path, server in
            try await offload {
                let client = try TestClient(path: path)
                try client.send(Array(#"{"method":"org.example.test.Echo","parameters":{"text":"a"}}"#.utf8))
                shutdown(client.fd, Int32(SHUT_WR))
                #expect(try client.receiveRaw() == nil)
            }
            let other = try await offload { try TestClient(path: path).call(#"{"method":"org.varlink.service.GetInfo"}"#) }
            #expect(other.error == nil)
            _ = server
        }
    }
}
