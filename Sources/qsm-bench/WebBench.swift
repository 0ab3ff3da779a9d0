import Foundation
import QSMClient

/// The Varlink half of `tools/bench web`: on qsmd's gateway socket, makes bob an inbox of 20 messages and
/// measures direct Inbox calls from `connections` connections for `seconds`, the baseline the web face's
/// `GET /inbox` (measured by wrk in the same run) is compared with.
enum WebBench {
    static let password = "bench-password-1"

    static func run(_ options: [String]) async throws {
        var gateway: String?, seconds = 10.0, connections = 16
        var iterator = options.makeIterator()
        while let option = iterator.next() {
            switch option {
            case "--gateway": gateway = iterator.next()
            case "--seconds": seconds = Double(iterator.next() ?? "") ?? seconds
            case "--connections": connections = Int(iterator.next() ?? "") ?? connections
            default: throw BenchError("unknown option \(option) (--gateway PATH --seconds S --connections N)")
            }
        }
        guard let gateway else { throw BenchError("--gateway PATH is required") }
        let client = QSMClient(socketPath: gateway, maxConnections: 2)
        for user in ["alice", "bob"] { _ = try await client.call(BrokerAPI.Register(username: user, password: password)) }
        let alice = try await client.call(BrokerAPI.Login(username: "alice", password: password)).session.token
        for index in 1...20 {
            _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "message \(index) of the inbox benchmark", mode: "aes"))
        }
        let bob = try await client.call(BrokerAPI.Login(username: "bob", password: password)).session.token
        await client.shutdown()
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let calls = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let connection = try await QSMConnection.connect(socketPath: gateway)
                    var count = 0
                    while ContinuousClock.now < deadline {
                        let page = try await connection.call(BrokerAPI.Inbox(token: bob, limit: 100))
                        guard page.messages.count == 20 else { throw BenchError("bob's inbox has \(page.messages.count) messages") }
                        count += 1
                    }
                    await connection.close()
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        let perSecond = Double(calls) / elapsed.seconds
        print("varlink-inbox: \(calls) calls from \(connections) connections in \(seconds) s")
        print("varlink-inbox \(String(format: "%.0f", perSecond))")
    }
}
