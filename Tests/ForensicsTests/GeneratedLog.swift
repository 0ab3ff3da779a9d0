import EventLog
import Forensics
import Foundation
import QSMEvents
import QSMTesting

/// The 100,000-event synthetic log the query tests share: generated once per test process, in a
/// data directory (`DIR/log`) so the qsm binary can read it too, with every event decoded once for
/// the naive full scans.
final class GeneratedLog: Sendable {
    static let eventCount = 100_000

    let directory: TemporaryDirectory
    let summary: SyntheticLog.Summary
    let log: ForensicLog
    /// Every event, decoded by a plain read of the whole log (no index, no prefilter).
    let all: [QSMEvent]

    var dataDirectory: String { directory.path }

    private init() async throws {
        directory = try TemporaryDirectory(prefix: "qsm-forensics-100k")
        let store = try EventStore(directory: directory.appending("log"))
        var generator = SeededGenerator(seed: 7)
        summary = try await SyntheticLog.append(count: Self.eventCount, users: 200, to: store, using: &generator)
        store.close()
        log = try ForensicLog(dataDirectory: directory.path)
        var all: [QSMEvent] = []
        all.reserveCapacity(Self.eventCount)
        try log.store.forEach(from: 1) { stored in
            all.append(try QSMEvent(stored))
            return true
        }
        self.all = all
    }

    private static let shared = Shared()

    /// The log, generated on first use.
    static func get() async throws -> GeneratedLog { try await shared.get() }

    private actor Shared {
        private var log: GeneratedLog?
        func get() async throws -> GeneratedLog {
            if let log { return log }
            let made = try await GeneratedLog()
            log = made
            return made
        }
    }
}
