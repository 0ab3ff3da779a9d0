import EventLog
import Foundation
import QSMTesting
import Testing

@Suite("Crash safety", .serialized)
struct CrashTests {
    /// A child appends from 8 tasks and prints each acknowledged position; we SIGKILL it at random
    /// moments, and after each kill the reopened log must hold every acknowledged event, densely,
    /// with a valid chain.
    @Test func everyAcknowledgedEventSurvivesSigkill() async throws {
        let directory = try TemporaryDirectory()
        // The kill moments come from this seed; QSM_CRASH_SEED=N reruns a failure's moments.
        let seed = ProcessInfo.processInfo.environment["QSM_CRASH_SEED"].flatMap { UInt64($0) }
            ?? UInt64(Date().timeIntervalSince1970)
        print("crash test: kill moments from seed \(seed) (rerun with QSM_CRASH_SEED=\(seed))")
        var generator = SeededGenerator(seed: seed)
        var totalAcknowledged = 0
        for round in 1...24 {
            let child = try ChildProcess(Products.logload, ["append", "--dir", directory.path, "--tasks", "8"])
            let started = try await child.waitForLine { $0.hasPrefix("acked") }
            #expect(started, "round \(round) (seed \(seed)): the child acknowledged nothing; stderr: \(child.standardError)")
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...120, using: &generator)))
            child.kill()
            try await child.wait()

            // Lines are written only after append returned, so each is a durable acknowledgement.
            let acknowledged = child.lines.compactMap { line -> (UInt64, UInt64)? in
                let parts = line.split(separator: " ")
                guard parts.count == 3, parts[0] == "acked", let p = UInt64(parts[1]), let s = UInt64(parts[2])
                else { return nil }
                return (p, s)
            }
            totalAcknowledged += acknowledged.count
            let log = try EventStore(directory: directory.path, mode: .readOnly)
            let head = try log.head()
            let report = try log.verify()
            #expect(report.isValid, "round \(round) (seed \(seed)): \(String(describing: report.firstProblem))")
            #expect(report.verifiedEvents == head.position)
            for (position, sequence) in acknowledged {
                #expect(position <= head.position, "round \(round) (seed \(seed)): acknowledged \(position) lost (head \(head.position))")
                let stored = try #require(try log.event(at: position))
                let recorded = try stored.header().correlationID.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                #expect(recorded == sequence, "round \(round) (seed \(seed)): position \(position) holds another event")
            }
        }
        #expect(totalAcknowledged > 24)
    }

    /// A reader in this process checks snapshots while another process appends: each snapshot is a
    /// dense, chain-valid prefix, and the prefix only grows.
    @Test func aReaderSeesAConsistentGrowingPrefixWhileAWriterAppends() async throws {
        let directory = try TemporaryDirectory()
        let child = try ChildProcess(Products.logload, ["append", "--dir", directory.path, "--tasks", "16", "--count", "40000"])
        defer { child.kill() }
        #expect(try await child.waitForLine { $0.hasPrefix("acked") })
        let log = try EventStore(directory: directory.path, mode: .readOnly)
        var previous: UInt64 = 0
        var snapshots = 0
        var growing = 0
        while snapshots < 200 {
            let report = try log.verify()
            #expect(report.isValid, "\(String(describing: report.firstProblem))")
            #expect(report.verifiedEvents >= previous)
            if report.verifiedEvents > previous { growing += 1 }
            previous = report.verifiedEvents
            snapshots += 1
            if report.verifiedEvents >= 40_000 { break }
        }
        #expect(growing >= 2, "the writer should have appended while we read")
        try await child.wait()
        #expect(try log.verify().verifiedEvents == 40_000)
    }
}
