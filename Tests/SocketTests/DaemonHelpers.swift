import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Synchronization

/// qsmd settings for tests: cheap Argon2id (test installations only), everything else as given.
func cheapSettings(_ extra: [String: Any] = [:]) -> [String: Any] {
    ["allowCheapPasswordHashingForTests": true, "passwordMemoryKiB": 8, "passwordIterations": 1].merging(extra) { $1 }
}

/// Raises this process's open-file limit to `wanted` (or the hard limit); children inherit it.
func raiseOpenFileLimit(to wanted: UInt64) -> UInt64 {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < wanted {
        limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return UInt64(limit.rlim_cur)
}

/// A process's resident anonymous memory in KiB (/proc/PID/status RssAnon).
func residentKiB(_ pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("RssAnon:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// The p-th percentile (0...1) of `values`.
func percentile(_ values: [Duration], _ p: Double) -> Duration {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .zero }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// An IDS rules file with the send-flood rule off, for load tests that send far faster than a person;
/// keep the directory alive while qsmd runs.
func rulesWithoutSendFlood() throws -> (directory: TemporaryDirectory, file: String) {
    let directory = try TemporaryDirectory(prefix: "qsm-rules")
    let file = directory.appending("rules.json")
    try Data(#"{"sendFlood": {"count": 0, "windowSeconds": 60}}"#.utf8).write(to: URL(fileURLWithPath: file))
    return (directory, file)
}

/// Every event of the log in the data directory `data` (read-only, as any auditor would) and whether its
/// hash chain holds.
func readLog(_ data: String) throws -> (events: [QSMEvent], chainHolds: Bool) {
    let log = try EventStore(directory: data + "/log", mode: .readOnly)
    defer { log.close() }
    var events: [QSMEvent] = []
    try log.forEach(from: 1) { record in
        events.append(try QSMEvent(record))
        return true
    }
    return (events, try log.verify().isValid)
}

/// The hex message ids of the MessageSent events among `events`.
func sentMessageIDs(_ events: [QSMEvent]) -> Set<String> {
    Set(events.compactMap { event in
        guard case .messageSent(let sent)? = event.body else { return nil }
        return sent.messageID.map { String(format: "%02x", $0) }.joined()
    })
}

/// Values several tasks add to while a test reads them.
final class Collected<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func append(_ item: Element) { items.withLock { $0.append(item) } }
    func append(contentsOf more: [Element]) { items.withLock { $0 += more } }
    var all: [Element] { items.withLock { $0 } }
}
