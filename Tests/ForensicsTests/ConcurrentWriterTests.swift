import EventLog
import Forensics
import Foundation
import QSMEvents
import QSMTesting
import Testing

/// Export and queries while another process keeps appending (qsm-logload, eight tasks of durable
/// single-event appends): each answer is a consistent prefix of the log.
@Suite("Beside a running writer")
struct ConcurrentWriterTests {
    private func acked(_ writer: ChildProcess) -> Int { writer.lines.filter { $0.hasPrefix("acked ") }.count }

    @Test func exportAndQueriesSeeAConsistentPrefixWhileAWriterAppends() async throws {
        let data = try TemporaryDirectory(prefix: "qsm-forensics-live")
        let writer = try ChildProcess(Products.logload, ["append", "--dir", data.appending("log"), "--tasks", "8"])
        defer { writer.kill() }
        let deadline = ContinuousClock.now + .seconds(20)
        while acked(writer) < 1500, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let before = acked(writer)
        try #require(before >= 1500, "the writer did not get going: \(writer.standardError)")

        let export = try await runQSM(["log", "export", "--data", data.path])
        let query = try await runQSM(["forensics", "query", "--data", data.path, "--actor", "loader-3", "--json"])
        let timeline = try await runQSM(["forensics", "timeline", "loader-5", "--data", data.path, "--json"])
        let after = acked(writer)
        writer.kill()
        _ = try await writer.wait()
        #expect(after > before, "the writer kept appending while the readers ran")

        // Export: positions 1...N, every line whole JSON, N at least what was acknowledged before it began.
        #expect(export.status == 0, "\(export.standardError)")
        let positions = try export.lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["position"] as? Int ?? 0
        }
        #expect(positions == Array(1...positions.count))
        #expect(positions.count >= before)

        // The query and the timeline: exactly the matching events of some prefix at least that long.
        let log = try ForensicLog(dataDirectory: data.path)
        var byActor = EventQuery()
        byActor.actor = "loader-3"
        let all = try log.events(matching: byActor).map(\.position)
        let timelineAll = try log.timeline(of: "loader-5").map(\.event.position)
        for (run, expected) in [(query, all), (timeline, timelineAll)] {
            #expect(run.status == 0, "\(run.standardError)")
            let got = try run.lines.map { line -> UInt64 in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let event = (object["event"] as? [String: Any]) ?? object
                return UInt64(event["position"] as? Int ?? 0)
            }
            let prefix = expected.prefix { $0 <= (got.last ?? 0) }
            #expect(got == Array(prefix))
            #expect(got.count >= expected.prefix { $0 <= UInt64(before) }.count)
            #expect(!got.isEmpty)
        }
    }
}
