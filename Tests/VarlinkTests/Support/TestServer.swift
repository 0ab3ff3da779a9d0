import Foundation
import Varlink

let testInterfaceDescription = """
    # An interface for the tests.
    interface org.example.test

    # A point.
    type Point (x: int, y: int)

    # Returns its text.
    method Echo(text: string, count: ?int, point: ?Point, tags: ?[]string, ratio: ?float) -> (text: string)

    # Streams count replies, each after delayMs.
    method Stream(count: int, delayMs: ?int) -> (index: int)

    # Replies after delayMs.
    method Wait(delayMs: int) -> ()

    # Reports the caller's credentials.
    method Whoami() -> (pid: int, uid: int, gid: int)

    # Streams chunks of size bytes forever, counting them.
    method Flood(size: int) -> (chunk: string)

    # Fails with Failed.
    method Fail(reason: string) -> ()

    # Declared, not implemented.
    method NotDone() -> ()

    # A handler failure.
    error Failed (reason: string)

    """

let lockedInterfaceDescription = """
    interface org.example.locked

    method Secret() -> (secret: string)

    """

/// Counts Flood replies sent, across servers, and Flood handlers that have returned.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    private var ended = 0
    func increment() { lock.withLock { value += 1 } }
    var current: Int { lock.withLock { value } }
    func handlerEnded() { lock.withLock { ended += 1 } }
    /// Flood handlers that have returned (their connection failed or closed).
    var handlersEnded: Int { lock.withLock { ended } }
}

func testInterfaces(floodCounter: Counter = Counter()) throws -> [VarlinkInterface] {
    var test = try VarlinkInterface(description: testInterfaceDescription)
    test.method("Echo") { call in ["text": call["text"] ?? nil] }
    test.streamingMethod("Stream") { call, replier in
        let count = call["count"]?.intValue ?? 0
        let delay = call["delayMs"]?.intValue ?? 0
        for index in 0..<max(count - 1, 0) {
            if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
            try await replier.send(["index": .int(index)])
        }
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        return ["index": .int(max(count - 1, 0))]
    }
    test.method("Wait") { call in
        try await Task.sleep(for: .milliseconds(call["delayMs"]?.intValue ?? 0))
        return [:]
    }
    test.method("Whoami") { call in
        ["pid": .int(Int(call.peer.pid)), "uid": .int(Int(call.peer.uid)), "gid": .int(Int(call.peer.gid))]
    }
    test.streamingMethod("Flood") { call, replier in
        let chunk = String(repeating: "x", count: call["size"]?.intValue ?? 1)
        defer { floodCounter.handlerEnded() }
        while true {
            try await replier.send(["chunk": .string(chunk)])
            floodCounter.increment()
        }
    }
    test.method("Fail") { call in
        throw VarlinkError("org.example.test.Failed", parameters: ["reason": call["reason"] ?? nil])
    }
    var locked = try VarlinkInterface(description: lockedInterfaceDescription)
    locked.authorize { call in call.peer.uid == 4_000_000_000 }
    locked.method("Secret") { _ in ["secret": "s"] }
    return [test, locked]
}

/// A short socket path in a fresh directory under /tmp (socket paths are limited to 103 bytes).
func temporarySocketPath() throws -> String {
    let directory = "/tmp/vl-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory + "/s.sock"
}

/// Starts a server with the test interfaces, runs `body`, stops the server.
func withTestServer(
    configure: (inout VarlinkServerConfiguration) -> Void = { _ in },
    floodCounter: Counter = Counter(),
    _ body: (String, VarlinkServer) async throws -> Void
) async throws {
    let path = try temporarySocketPath()
    var configuration = VarlinkServerConfiguration(
        socketPath: path,
        info: VarlinkServiceInfo(vendor: "qsm", product: "varlink-tests", version: "1", url: "https://example.org"))
    configure(&configuration)
    let server = VarlinkServer(configuration: configuration, interfaces: try testInterfaces(floodCounter: floodCounter))
    try await server.start()
    do {
        try await body(path, server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
    try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}
