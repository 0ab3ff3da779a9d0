import Broker
import EventLog
import Foundation
import QSMEvents
import QSMTesting

/// The `broker` suite: in-process Send throughput, durable, with 64-byte bodies, from 1 and from 64
/// concurrent senders (32 pairs, each sender writing to its partner): aes and pqc with pools made before
/// the timed phase, otp with its key exchanges inline; then Rebuild speed over the whole log.
///
/// Passwords use the cheap test cost: the suite measures sending, not Argon2id (the crypto suite does).
enum BrokerBench {
    static func run(_ options: [String]) async throws {
        var messages = 20_000
        var rest = options[...]
        while let option = rest.popFirst() {
            guard option == "--messages", let value = rest.popFirst(), let count = Int(value), count >= 64 else {
                throw BenchError("usage: qsm-bench broker [--messages N (>= 64, default 20000)]")
            }
            messages = count
        }
        let directory = try TemporaryDirectory(prefix: "qsm-bench-broker")
        var configuration = BrokerConfiguration(dataDirectory: directory.path)
        configuration.passwordMemoryKiB = 8
        configuration.passwordIterations = 1
        configuration.allowCheapPasswordHashingForTests = true
        if let pipelined = ProcessInfo.processInfo.environment["QSM_PIPELINED"] { configuration.pipelinedCommit = pipelined != "0" }
        var rules = IDSRules()
        rules.sendFlood = .init(count: 0, windowSeconds: 60)  // off: a benchmark is a flood by design
        configuration.rules = rules
        let broker = try Broker(configuration: configuration)
        let users = (0..<64).map { String(format: "user%02d", $0) }
        var tokens: [String] = []
        for user in users {
            _ = try await broker.register(username: user, password: user + "-password", caller: .local)
            tokens.append(try await broker.login(username: user, password: user + "-password", caller: .local).token)
        }
        let partner = { (index: Int) in index ^ 1 }
        for index in stride(from: 0, to: users.count, by: 2) {
            _ = try await broker.establishKey(token: tokens[index], peer: users[partner(index)], caller: .local)
        }
        let body = Data(repeating: 0x61, count: 64)
        let sessions = tokens

        func rate(_ mode: String, senders: Int, total: Int) async throws -> Double {
            let perSender = max(total / senders, 1)
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 0..<senders {
                    group.addTask {
                        for _ in 0..<perSender {
                            _ = try await broker.send(
                                token: sessions[sender], to: users[sender ^ 1], body: body, mode: mode, caller: .local)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seconds = (ContinuousClock.now - start).seconds
            let ops = Double(perSender * senders) / seconds
            print(String(format: "send-%@ %2d senders: %.0f ops/s (%d messages, %.2f s)", mode, senders, ops, perSender * senders, seconds))
            return ops
        }

        var results: [String: Double] = [:]
        let modes = ProcessInfo.processInfo.environment["QSM_BENCH_MODES"]?.split(separator: ",").map(String.init)
            ?? ["aes", "pqc", "otp"]
        for mode in modes {
            let scale = mode == "aes" ? 1 : mode == "pqc" ? 8 : 4
            _ = try await rate(mode, senders: 1, total: messages / scale / 10)
            results[mode] = try await rate(mode, senders: 64, total: messages / scale)
        }
        if let writer = broker.log.writerStatistics {
            print(String(
                format: "writer: %llu commands in %llu commits (%.1f a commit), decide %.1f µs/command, commit %.0f µs/commit",
                writer.appends, writer.commits, Double(writer.appends) / Double(max(writer.commits, 1)),
                Double(writer.decideNanoseconds) / 1e3 / Double(max(writer.appends, 1)),
                Double(writer.commitNanoseconds) / 1e3 / Double(max(writer.commits, 1))))
        }
        let stats = try await broker.stats(caller: .local)
        print(String(format: "pipeline: %llu commands in %llu batches (%.1f a batch), %llu commits",
                     stats.commands, stats.batches, Double(stats.commands) / Double(max(stats.batches, 1)), stats.commits))
        for _ in 0..<(ProcessInfo.processInfo.environment["QSM_BENCH_REBUILDS"].flatMap(Int.init) ?? 0) {
            _ = try await broker.rebuild(caller: .local)  // extra rebuilds, for profiling
        }
        let rebuild = try await broker.rebuild(caller: .local)
        guard rebuild.differences.isEmpty else { throw BenchError("rebuild differs: \(rebuild.differences)") }
        let rebuildRate = Double(rebuild.eventsReplayed) / rebuild.seconds
        print(String(format: "rebuild: %.0f events/s (%llu events, %.2f s)", rebuildRate, rebuild.eventsReplayed, rebuild.seconds))
        try breakdown(broker.log)
        await broker.close()
        print(String(
            format: "broker: send-aes %.0f send-pqc %.0f send-otp %.0f rebuild %.0f",
            results["aes"] ?? 0, results["pqc"] ?? 0, results["otp"] ?? 0, rebuildRate))
    }
}

extension BrokerBench {
    /// Where rebuild time goes: decoding, then each projection's evolve over the decoded events.
    static func breakdown(_ log: EventStore) throws {
        let start = ContinuousClock.now
        var events: [QSMEvent] = []
        try log.forEach(from: 1) { stored in
            events.append(try QSMEvent(stored))
            return true
        }
        let decode = (ContinuousClock.now - start).seconds
        func time<P: Projection>(_ projection: P) -> Double {
            var state = projection
            let begin = ContinuousClock.now
            for event in events { state.evolve(event) }
            return (ContinuousClock.now - begin).seconds
        }
        // The message tables' rows, into an image in memory (a rebuild writes them the same way).
        let tablesStart = ContinuousClock.now
        var image = TableImage()
        for event in events {
            for row in try MessageTables.rows(for: event, tables: image) { image.apply(row) }
        }
        let tables = (ContinuousClock.now - tablesStart).seconds
        let parts: [(String, Double)] = [
            ("decode", decode), ("users", time(UsersProjection())), ("sessions", time(SessionsProjection())),
            ("keyPools", time(KeyPoolsProjection())), ("message-tables", tables), ("ids", time(IDSProjection())),
            ("dashboard", time(DashboardProjection())),
        ]
        print("rebuild-breakdown (µs/event): " + parts.map { String(format: "%@ %.2f", $0.0, $0.1 * 1e6 / Double(max(events.count, 1))) }.joined(separator: ", "))
    }
}
