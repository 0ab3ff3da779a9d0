import EventLog
import Foundation
import QSMEvents
import QSMTesting

/// The `log` suite: durable appends of ~300-byte events from 1 and from 64 concurrent callers (each
/// waits for its append before the next), then a full replay that decodes every event. tools/bench
/// runs raw LMDB on the same records afterwards and prints the summary line.
enum LogBench {
    static func run(_ options: [String]) async throws {
        var settings = Settings()
        try settings.parse(options)
        let directory = try TemporaryDirectory(prefix: "qsm-bench-log")
        let log = try EventStore(directory: directory.path)
        var generator = SeededGenerator(seed: 42)
        // Pre-build the events so the timed loops measure the log, not the workload generator.
        let pool = try (0..<4096).map { _ in try SampleEvents.message(recordSize: 300, using: &generator) }

        let single = try await appendRate(log, callers: 1, perCaller: settings.singleCallerEvents, pool: pool)
        print(String(format: "log-append-1: %.0f events/s (%d events, durable)", single.rate, single.events))

        let before = log.writerStatistics!
        let concurrent = try await appendRate(log, callers: 64, perCaller: settings.eventsPerCaller, pool: pool)
        let after = log.writerStatistics!
        let commits = after.commits - before.commits
        print(String(
            format: "log-append-64: %.0f events/s (%d events, %d commits, %.1f events/commit)", concurrent.rate,
            concurrent.events, commits, Double(after.events - before.events) / Double(max(commits, 1))))

        let replay = try replayRate(log)
        print(String(format: "replay: %.0f events/s (%d events decoded)", replay.rate, replay.events))

        if let path = settings.recordsOut { try exportRecords(log, to: path) }
        let stats = try log.storageStats()
        print("log-size: \(stats.fileSize) bytes on disk, map \(stats.mapSize) bytes")
        print(String(format: "log-summary: append64 %.0f replay %.0f", concurrent.rate, replay.rate))
        log.close()
    }

    struct Settings {
        var singleCallerEvents = 3_000
        var eventsPerCaller = 5_000
        var recordsOut: String?

        mutating func parse(_ options: [String]) throws {
            var rest = options[...]
            while let option = rest.popFirst() {
                guard let value = rest.popFirst() else { throw BenchError("\(option) needs a value") }
                switch option {
                case "--single": singleCallerEvents = try Self.count(value, option)
                case "--per-caller": eventsPerCaller = try Self.count(value, option)
                case "--records-out": recordsOut = value
                default: throw BenchError("unknown option \(option) (--single N, --per-caller N, --records-out FILE)")
                }
            }
        }

        static func count(_ text: String, _ option: String) throws -> Int {
            guard let value = Int(text), value > 0 else { throw BenchError("\(option) needs a positive count") }
            return value
        }
    }

    static func appendRate(_ log: EventStore, callers: Int, perCaller: Int, pool: [NewEvent]) async throws
        -> (rate: Double, events: Int)
    {
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        for index in 0..<perCaller {
                            try await log.append([pool[(caller &* 7919 &+ index) % pool.count]])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let events = callers * perCaller
        return (Double(events) / elapsed.seconds, events)
    }

    static func replayRate(_ log: EventStore) throws -> (rate: Double, events: Int) {
        var count = 0
        var checksum: UInt64 = 0
        let elapsed = try ContinuousClock().measure {
            try log.forEach(from: 1) { stored in
                let event = try QSMEvent(stored)
                checksum &+= event.position &+ UInt64(event.actor.utf8.count)
                count += 1
                return true
            }
        }
        guard checksum > 0 else { throw BenchError("replay decoded nothing") }
        return (Double(count) / elapsed.seconds, count)
    }

    /// Writes every record as (u32 little-endian length, bytes) for the raw LMDB baseline.
    static func exportRecords(_ log: EventStore, to path: String) throws {
        var data = Data()
        try log.forEach(from: 1) { stored in
            withUnsafeBytes(of: UInt32(stored.record.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(stored.record)
            return true
        }
        try data.write(to: URL(fileURLWithPath: path))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
