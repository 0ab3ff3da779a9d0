import Broker
import EventLog
import Forensics
import Foundation
import QSMEvents
import QSMTesting

/// The `forensics` suite: on a synthetic log of 1,000,000 realistic events (SyntheticLog: 200 users),
/// export to /dev/null through the CLI's writer, the IDS rescan, and one user's events by the by_actor
/// index against a full scan for the same answer.
enum ForensicsBench {
    static func run(_ options: [String]) async throws {
        var settings = Settings()
        try settings.parse(options)
        let directory = try TemporaryDirectory(prefix: "qsm-bench-forensics")
        let build = try await ContinuousClock().measure {
            let store = try EventStore(directory: directory.appending("log"))
            var generator = SeededGenerator(seed: 42)
            _ = try await SyntheticLog.append(count: settings.events, users: settings.users, to: store, using: &generator)
            store.close()
        }
        let log = try ForensicLog(dataDirectory: directory.path)
        let stats = try log.store.storageStats()
        print(String(
            format: "log: %d events, %d users, %.1f MiB, written in %.1f s", settings.events, settings.users,
            Double(stats.fileSize) / 1_048_576, build.seconds))

        let export = try exportRate(log)
        print(String(
            format: "export: %.0f events/s (%.0f per CPU second; %d events, %.1f MiB of NDJSON to /dev/null)",
            export.rate, export.cpuRate, export.events, Double(export.bytes) / 1_048_576))

        let rescan = try rescanRate(log)
        print(rescan.map { String(format: "rescan: %.0f events/s (%d alerts found)", $0.rate, $0.alerts) } ?? "rescan: n/a")

        let query = try querySpeedup(log, user: "user17")
        print(String(
            format: "query: actor user17, %d events: indexed %.2f ms, full scan %.0f ms, speedup %.0fx", query.matches,
            query.indexed * 1000, query.fullScan * 1000, query.speedup))

        let rescanFigure = rescan.map { String(format: "%.0f", $0.rate) } ?? "n/a"
        print(String(format: "forensics: export %.0f rescan %@ query-speedup %.0fx", export.rate, rescanFigure, query.speedup))
    }

    struct Settings {
        var events = 1_000_000
        var users = 200

        mutating func parse(_ options: [String]) throws {
            var rest = options[...]
            while let option = rest.popFirst() {
                guard let value = rest.popFirst(), let number = Int(value), number > 1 else {
                    throw BenchError("\(option) needs a count above 1")
                }
                switch option {
                case "--events": events = number
                case "--users": users = number
                default: throw BenchError("unknown option \(option) (--events N, --users N)")
                }
            }
        }
    }

    /// Every event as NDJSON through `BufferedOutput`, exactly as `qsm log export` writes it.
    static func exportRate(_ log: ForensicLog) throws -> (rate: Double, cpuRate: Double, events: Int, bytes: Int) {
        let descriptor = open("/dev/null", O_WRONLY)
        guard descriptor >= 0 else { throw BenchError("cannot open /dev/null") }
        defer { close(descriptor) }
        let output = BufferedOutput(descriptor: descriptor)
        var events = 0
        let cpuStart = threadCPUSeconds()
        let elapsed = try ContinuousClock().measure {
            try log.forEach(matching: EventQuery()) { event throws(ForensicsError) in
                EventJSON.appendLine(event, to: &output.json)
                try output.flushIfFull()
                events += 1
            }
            try output.flush()
        }
        let cpu = threadCPUSeconds() - cpuStart
        return (Double(events) / elapsed.seconds, Double(events) / cpu, events, output.written)
    }

    /// The lead's IDS rescan (`qsm forensics rescan`) over the whole log with the default rules.
    static func rescanRate(_ log: ForensicLog) throws -> (rate: Double, alerts: Int)? {
        var report: IDSRescan.Report?
        let elapsed = try ContinuousClock().measure { report = try IDSRescan.run(store: log.store, rules: IDSRules()) }
        guard let report else { return nil }
        return (Double(report.eventsScanned) / elapsed.seconds, report.findings.count)
    }

    /// One user's events (by actor): the by_actor index against a full scan for the same answer; the
    /// best of several runs each.
    static func querySpeedup(_ log: ForensicLog, user: String) throws
        -> (matches: Int, indexed: Double, fullScan: Double, speedup: Double)
    {
        var query = EventQuery()
        query.actor = user
        var indexedAnswer: [QSMEvent] = []
        var scannedAnswer: [QSMEvent] = []
        var indexed = Double.infinity
        var fullScan = Double.infinity
        for _ in 0..<5 {
            indexed = min(indexed, try ContinuousClock().measure { indexedAnswer = try log.events(matching: query) }.seconds)
        }
        for _ in 0..<2 {
            fullScan = min(fullScan, try ContinuousClock().measure {
                scannedAnswer = try log.events(matching: query, useIndexes: false)
            }.seconds)
        }
        guard indexedAnswer == scannedAnswer, !indexedAnswer.isEmpty else {
            throw BenchError("the indexed query (\(indexedAnswer.count) events) and the full scan (\(scannedAnswer.count)) differ")
        }
        return (indexedAnswer.count, indexed, fullScan, fullScan / indexed)
    }
}
