import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Testing

@Suite("Group commit")
struct ConcurrencyTests {
    @Test func sixtyFourConcurrentAppendersEachEventOnceDenseAndChained() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path)
        let appenders = 64, perAppender = 1_000
        // Each appender waits for its append before the next; every event carries (appender, sequence).
        let acknowledged = try await withThrowingTaskGroup(of: [(UInt64, UInt64)].self) { group in
            for appender in 0..<appenders {
                group.addTask {
                    var generator = SeededGenerator(seed: UInt64(appender))
                    var mine: [(UInt64, UInt64)] = []
                    for sequence in 0..<perAppender {
                        var event = try SampleEvents.message(recordSize: 200, sender: "a\(appender)", using: &generator)
                        let tag = UInt64(appender) << 32 | UInt64(sequence)
                        event.correlationID = withUnsafeBytes(of: tag.bigEndian) { Data($0) }
                        let positions = try await log.append([event])
                        mine.append((positions[0], tag))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let total = appenders * perAppender
        #expect(acknowledged.count == total)
        #expect(Set(acknowledged.map(\.0)) == Set(1...UInt64(total)))

        // Every acknowledged event sits at the position it was acknowledged at, exactly once.
        let stored = try log.read(from: 1, limit: total + 10)
        #expect(stored.map(\.position) == Array(1...UInt64(total)))
        var tagAt: [UInt64: UInt64] = [:]
        for (position, tag) in acknowledged { tagAt[position] = tag }
        var seen = Set<UInt64>()
        for event in stored {
            let tag = try event.header().correlationID.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect(tagAt[event.position] == tag)
            #expect(seen.insert(tag).inserted)
        }
        // Per appender, its events appear in the order it appended them.
        for appender in 0..<appenders {
            let positions = acknowledged.filter { $0.1 >> 32 == UInt64(appender) }.sorted { $0.1 < $1.1 }.map(\.0)
            #expect(positions == positions.sorted())
        }
        #expect(try log.verify().isValid)
        // Group commit: many appends share a transaction.
        let stats = try #require(log.writerStatistics)
        #expect(stats.events == UInt64(total) && stats.appends == UInt64(total))
        #expect(stats.commits < stats.appends / 2, "expected batching, got \(stats.commits) commits")
    }

    @Test func appendsAfterCloseFailAndReadOnlyLogsRefuseAppends() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path)
        let event = try sampleEventsOfEveryType()[0]
        try await log.append([event])
        log.close()
        await #expect(throws: EventLogError.closed(path: log.path)) { try await log.append([event]) }
        // Closing released the writer lock: the log opens again for writing.
        let reader = try EventStore(directory: directory.path, mode: .readOnly)
        await #expect(throws: EventLogError.readOnly(path: reader.path)) { try await reader.append([event]) }
        let writer = try EventStore(directory: directory.path)
        #expect(try await writer.append([event]) == [2])
    }

    @Test func theMapGrowsWhenItFills() async throws {
        let directory = try TemporaryDirectory()
        var options = EventStore.Options()
        options.initialMapSize = 1 << 20
        let log = try EventStore(directory: directory.path, options: options)
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<20 {
            let batch = try (0..<100).map { _ in try SampleEvents.message(recordSize: 2_000, using: &generator) }
            try await log.append(batch)
        }
        let stats = try log.storageStats()
        #expect(stats.mapSize > 1 << 20)
        #expect(stats.fileSize > 1 << 20)
        #expect(try log.head().position == 2_000)
        #expect(try log.verify().verifiedEvents == 2_000)
        log.close()
        // A reopened log maps at least what the file holds, whatever the option says.
        let reopened = try EventStore(directory: directory.path, options: options)
        #expect(try reopened.verify().isValid)
        try await reopened.append([try SampleEvents.message(using: &generator)])
    }
}
