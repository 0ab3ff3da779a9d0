import Foundation
import QSMClient

/// The `socket` suite: Send (aes, 64-byte bodies, pools made first) over qsmd's socket from 1 and from
/// 50 connections, each waiting for its reply before the next call, with p50 and p99 latency; then
/// qsmd's anonymous resident memory (RssAnon) after `--memory-users` users and `--memory-events` events.
/// tools/bench runs Redis Streams on the same payloads afterwards and prints the summary line.
/// QSM_BENCH_SNAPSHOT_EVERY sets qsmd's snapshot interval (default 100,000 events), to see what
/// snapshots cost in memory.
enum SocketBench {
    static func run(_ options: [String]) async throws {
        var qsmd = ""
        var messages = 20_000
        var memoryUsers = 10_000
        var memoryEvents = 1_000_000
        var rest = options[...]
        while let option = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BenchError("\(option) needs a value") }
            switch option {
            case "--qsmd": qsmd = value
            case "--messages": messages = Int(value) ?? messages
            case "--memory-users": memoryUsers = Int(value) ?? memoryUsers
            case "--memory-events": memoryEvents = Int(value) ?? memoryEvents
            default: throw BenchError("usage: qsm-bench socket --qsmd PATH [--messages N] [--memory-users N] [--memory-events N]")
            }
        }
        guard FileManager.default.isExecutableFile(atPath: qsmd) else { throw BenchError("--qsmd must name the qsmd binary") }
        let directory = NSTemporaryDirectory() + "qsm-bench-socket-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/qsm.sock"
        // Sends are a flood by design here; passwords are cheap: the suite measures sending.
        let rules = directory + "/rules.json"
        try Data(#"{"sendFlood": {"count": 0, "windowSeconds": 60}}"#.utf8).write(to: URL(fileURLWithPath: rules))
        let config = directory + "/qsmd.json"
        let snapshotEvery = ProcessInfo.processInfo.environment["QSM_BENCH_SNAPSHOT_EVERY"] ?? "100000"
        // QSM_PIPELINED=0|1 sets qsmd's pipelinedCommit (unset: qsmd's default; older qsmd ignore it).
        let pipelined = ProcessInfo.processInfo.environment["QSM_PIPELINED"].map { #", "pipelinedCommit": \#($0 != "0")"# } ?? ""
        try Data(#"{"allowCheapPasswordHashingForTests": true, "passwordMemoryKiB": 8, "passwordIterations": 1, "rulesFile": "\#(rules)", "snapshotEvery": \#(snapshotEvery)\#(pipelined)}"#.utf8)
            .write(to: URL(fileURLWithPath: config))
        let arguments = ["--data", directory + "/data", "--socket", socket, "--config", config, "--log-level", "warning"]
        var daemon = try await startDaemon(qsmd, arguments: arguments, socket: socket).process
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }

        let setup = try await QSMConnection.connect(socketPath: socket)
        var tokens: [String] = []
        for index in 0..<100 {
            let user = String(format: "user%03d", index)
            _ = try await setup.call(BrokerAPI.Register(username: user, password: "password-\(user)"))
            tokens.append(try await setup.call(BrokerAPI.Login(username: user, password: "password-\(user)")).session.token)
        }
        for index in stride(from: 0, to: 100, by: 2) {
            _ = try await setup.call(BrokerAPI.EstablishKey(token: tokens[index], peer: String(format: "user%03d", index + 1)))
        }
        let body = String(repeating: "a", count: 64)
        let single = try await measure(socket: socket, tokens: tokens, connections: 1, total: max(messages / 10, 100), body: body)
        let fifty = try await measure(socket: socket, tokens: tokens, connections: 50, total: messages, body: body)
        for (name, result) in [("c=1", single), ("c=50", fifty)] {
            print(String(format: "socket-send %@: %.0f ops/s, p50 %.3f ms, p99 %.3f ms (%d messages)",
                         name, result.rate, result.p50 * 1000, result.p99 * 1000, result.count))
        }

        if memoryEvents > 0 {
            let (users, events) = try await fill(socket: socket, setup: setup, users: memoryUsers, events: memoryEvents, body: body)
            let rss = rssAnon(pid: daemon.processIdentifier) / 1024
            daemon.terminate()
            daemon.waitUntilExit()
            let restarted = try await startDaemon(qsmd, arguments: arguments, socket: socket)
            daemon = restarted.process
            print(String(
                format: "qsmd-memory: RssAnon %d MiB with %d users and %d events; restart to ready %.2f s",
                rss, users, events, restarted.seconds))
        }
        print(String(format: "socket-summary: c1 %.0f c50 %.0f", single.rate, fifty.rate))
    }

    struct Measurement {
        var rate: Double
        var p50: Double
        var p99: Double
        var count: Int
    }

    /// `connections` clients, each on a connection of its own sending its share in turn to its partner,
    /// waiting for each reply.
    static func measure(socket: String, tokens: [String], connections: Int, total: Int, body: String) async throws -> Measurement {
        let perConnection = max(total / connections, 1)
        let start = Date()
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for connection in 0..<connections {
                group.addTask {
                    let client = try await QSMConnection.connect(socketPath: socket)
                    let sender = (connection % 50) * 2
                    let send = BrokerAPI.Send(token: tokens[sender], to: String(format: "user%03d", sender + 1), body: body, mode: "aes")
                    var mine: [Double] = []
                    mine.reserveCapacity(perConnection)
                    for _ in 0..<perConnection {
                        let begin = DispatchTime.now().uptimeNanoseconds
                        do { _ = try await client.call(send) } catch {
                            await client.close()
                            throw BenchError("a sender failed: \(error)")
                        }
                        mine.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9)
                    }
                    await client.close()
                    return mine
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
        let elapsed = Date().timeIntervalSince(start)
        let sorted = latencies.sorted()
        return Measurement(
            rate: Double(sorted.count) / elapsed, p50: sorted[sorted.count / 2],
            p99: sorted[min(sorted.count - 1, sorted.count * 99 / 100)], count: sorted.count)
    }

    /// Registers users up to `users` and sends until the log holds `events`, from 50 connections.
    static func fill(socket: String, setup: QSMConnection, users: Int, events: Int, body: String) async throws -> (Int, Int) {
        var registered = 100
        while registered < users {
            let user = String(format: "filler%05d", registered)
            _ = try await setup.call(BrokerAPI.Register(username: user, password: "password-\(user)"))
            registered += 1
            if registered % 2_000 == 0 { FileHandle.standardError.write(Data("socket: \(registered) users\n".utf8)) }
        }
        var tokens: [String] = []
        for index in 0..<100 {
            let user = String(format: "user%03d", index)
            tokens.append(try await setup.call(BrokerAPI.Login(username: user, password: "password-\(user)")).session.token)
        }
        var head = try await setup.call(AdminAPI.Stats()).head
        while head < events {
            let batch = min(events - head, 100_000)
            _ = try await measure(socket: socket, tokens: tokens, connections: 50, total: batch, body: body)
            head = try await setup.call(AdminAPI.Stats()).head
            FileHandle.standardError.write(Data("socket: \(head) events\n".utf8))
        }
        return (registered, head)
    }

    /// Starts qsmd and waits until its socket answers a call; returns the process and how long that took.
    static func startDaemon(_ qsmd: String, arguments: [String], socket: String) async throws -> (process: Process, seconds: Double) {
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: qsmd)
        daemon.arguments = arguments
        let start = Date()
        try daemon.run()
        let deadline = Date().addingTimeInterval(120)
        while true {
            if let client = try? await QSMConnection.connect(socketPath: socket) {
                let answered = (try? await client.call(GetInfo())) != nil
                await client.close()
                if answered { return (daemon, Date().timeIntervalSince(start)) }
            }
            guard Date() < deadline, daemon.isRunning else {
                daemon.terminate()
                throw BenchError("qsmd did not start")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Varlink's own GetInfo: any answer means qsmd serves its socket.
    struct GetInfo: QSMRequest {
        static let method = "org.varlink.service.GetInfo"
        typealias Reply = EmptyReply
    }

    /// RssAnon of `pid` in KiB (LMDB's file mapping is not anonymous and is not counted).
    static func rssAnon(pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }
}
