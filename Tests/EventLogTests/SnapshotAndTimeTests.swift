import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Testing

@Suite("Caller timestamps and snapshots")
struct SnapshotAndTimeTests {
    @Test func callerTimestampsAreRecordedAndNeverGoBackwards() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path)
        var generator = SeededGenerator(seed: 7)
        let event = try SampleEvents.message(recordSize: 200, using: &generator)
        try await log.append([event, event], recordedAtMicros: 5_000_000)
        // Earlier than the last recorded time: raised to it, so the log's times stay ordered.
        try await log.append([event], recordedAtMicros: 4_000_000)
        try await log.append([event], recordedAtMicros: 9_000_000)
        let times = try log.read(from: 1, limit: 10).map { try QSMEvent($0).recordedAtUs }
        #expect(times == [5_000_000, 5_000_000, 5_000_000, 9_000_000])
        #expect(try log.head().lastRecordedAtMicros == 9_000_000)
        #expect(try log.verify().isValid)
    }

    @Test func snapshotsAreSavedReplacedAndSurviveReopen() async throws {
        let directory = try TemporaryDirectory()
        var generator = SeededGenerator(seed: 8)
        let event = try SampleEvents.message(recordSize: 100, using: &generator)
        do {
            let log = try EventStore(directory: directory.path)
            #expect(try log.loadSnapshot(named: "p") == nil)
            try await log.append([event, event, event])
            try log.saveSnapshot(Snapshot(position: 2, state: Data("two".utf8)), named: "p")
            try log.saveSnapshot(Snapshot(position: 3, state: Data("three".utf8)), named: "p")
            // A snapshot of events that do not exist is refused, and the previous one stays.
            #expect(throws: EventLogError.self) {
                try log.saveSnapshot(Snapshot(position: 4, state: Data("four".utf8)), named: "p")
            }
            #expect(throws: EventLogError.self) { try log.saveSnapshot(Snapshot(position: 1, state: Data()), named: "") }
            log.close()
        }
        let reader = try EventStore(directory: directory.path, mode: .readOnly)
        #expect(try reader.loadSnapshot(named: "p") == Snapshot(position: 3, state: Data("three".utf8)))
        #expect(throws: EventLogError.readOnly(path: reader.path)) {
            try reader.saveSnapshot(Snapshot(position: 1, state: Data()), named: "p")
        }
        // Snapshots are beside the log, not in it: the chain is untouched.
        #expect(try reader.verify().verifiedEvents == 3)
    }
}
