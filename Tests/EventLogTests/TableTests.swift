import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Synchronization
import Testing

/// The writer's tables: rows committed in the transaction of their events (or not at all), read back
/// from disk the same as from an image in memory, and rebuilt from the log.
@Suite("Tables beside the log")
struct TableTests {
    /// A stage whose commands are events with rows; a command with `poison` fails its whole batch.
    final class RowStage: WriterStage, @unchecked Sendable {
        final class Job: @unchecked Sendable {
            let events: [NewEvent]
            let rows: [TableRow]
            let poison: Bool
            let done: CheckedContinuation<Bool, Never>
            init(events: [NewEvent], rows: [TableRow], poison: Bool, done: CheckedContinuation<Bool, Never>) {
                self.events = events
                self.rows = rows
                self.poison = poison
                self.done = done
            }
        }

        func decide(_ commands: [Job], into batch: inout RecordBatch, closing: Bool) {
            for job in commands {
                for event in job.events { _ = try? batch.append(event, at: 1_000) }
                for row in job.rows { batch.write(row) }
                if job.poison { batch.poison("asked to fail") }
            }
        }

        func answer(_ commands: [Job], outcome: Result<Committed, EventLogError>) {
            for job in commands {
                if case .success = outcome { job.done.resume(returning: true) } else { job.done.resume(returning: false) }
            }
        }

        func rollBack(to head: LogHead) {}
    }

    static func options(_ tables: [String] = ["t", "u"]) -> EventStore.Options {
        var options = EventStore.Options()
        options.tables = tables
        return options
    }

    static func submit(_ writer: LogWriter<RowStage>, events: Int, rows: [TableRow], poison: Bool = false) async throws -> Bool {
        var generator = SeededGenerator(seed: UInt64(rows.count + events))
        let news = try (0..<events).map { _ in try SampleEvents.message(recordSize: 64, using: &generator) }
        return await withCheckedContinuation { done in
            _ = writer.submit(RowStage.Job(events: news, rows: rows, poison: poison, done: done))
        }
    }

    @Test func rowsCommitWithTheirEventsAndAFailedBatchWritesNone() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path, options: Self.options())
        let writer = try LogWriter(store: log, stage: RowStage(), pipelined: false)
        #expect(try await Self.submit(writer, events: 2, rows: [TableRow(table: "t", key: [1], value: [10])]))
        #expect(try log.readTables { try $0.value(in: "t", key: [1]) } == [10])
        #expect(try log.tablesPosition() == 2)

        #expect(try await !Self.submit(writer, events: 1, rows: [TableRow(table: "t", key: [2], value: [20])], poison: true))
        #expect(try log.readTables { try $0.value(in: "t", key: [2]) } == nil, "a failed batch writes no row")
        #expect(try log.head().position == 2)
        #expect(try log.tablesPosition() == 2)

        // The first write wins for a row that keeps what is there.
        #expect(try await Self.submit(writer, events: 1, rows: [
            TableRow(table: "t", key: [1], value: [11], keepExisting: true), TableRow(table: "u", key: [1], value: [12]),
        ]))
        #expect(try log.readTables { try $0.value(in: "t", key: [1]) } == [10])
        #expect(try log.readTables { try $0.value(in: "u", key: [1]) } == [12])
        #expect(try log.tablesPosition() == 3)
        await writer.stop()
        log.close()

        // A reader sees them too; a log opened without naming tables has none.
        let reader = try EventStore(directory: directory.path, mode: .readOnly, options: Self.options())
        #expect(try reader.readTables { try $0.value(in: "u", key: [1]) } == [12])
        let plain = try EventStore(directory: directory.path, mode: .readOnly)
        #expect(try plain.readTables { try $0.value(in: "u", key: [1]) } == nil)
        #expect(try plain.tablesPosition() == 0)
    }

    @Test func scansAndDigestsAgreeBetweenDiskAndMemory() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path, options: Self.options())
        let writer = try LogWriter(store: log, stage: RowStage(), pipelined: false)
        var generator = SeededGenerator(seed: 42)
        var image = TableImage()
        var rows: [TableRow] = []
        // Users whose names prefix one another ("al", "ali") and positions across byte boundaries.
        for user in ["al", "ali", "bob", "\u{00FF}x"] {
            for _ in 0..<40 {
                let position = UInt64.random(in: 1...70_000, using: &generator)
                let key = Array(user.utf8) + [0] + withUnsafeBytes(of: position.bigEndian) { Array($0) }
                rows.append(TableRow(table: "t", key: key, value: [UInt8.random(in: 0...255, using: &generator)]))
            }
        }
        for row in rows { image.apply(row) }
        #expect(try await Self.submit(writer, events: 1, rows: rows))
        await writer.stop()

        func collect(_ reading: some TableReading, _ prefix: [UInt8], _ below: [UInt8]?) throws -> [[UInt8]] {
            var keys: [[UInt8]] = []
            try reading.scanBackward(in: "t", prefix: prefix, below: below) { key, _ in
                keys.append(key)
                return keys.count < 25
            }
            return keys
        }
        for user in ["al", "ali", "bob", "\u{00FF}x", "carol", ""] {
            let prefix = user.isEmpty ? [] : Array(user.utf8) + [0]
            for below: UInt64? in [nil, 1, 30_000, 70_001] {
                let bound = below.map { prefix + withUnsafeBytes(of: $0.bigEndian) { Array($0) } }
                let fromDisk = try log.readTables { try collect($0, prefix, bound) }
                let fromMemory = try collect(image, prefix, bound)
                #expect(fromDisk == fromMemory, "prefix \(user), below \(String(describing: below))")
                #expect(fromDisk == fromDisk.sorted { $0.lexicographicallyPrecedes($1) }.reversed(), "newest first")
                #expect(fromDisk.allSatisfy { $0.starts(with: prefix) })
            }
        }
        #expect(try log.tableDigest(["t", "u"]).digest == image.digest(of: ["t", "u"]))
        image.apply(TableRow(table: "t", key: [9], value: [9]))
        #expect(try log.tableDigest(["t", "u"]).digest != image.digest(of: ["t", "u"]), "a row more changes the digest")
        #expect(try log.tableCount("t") == rows.count)
    }

    @Test func tablesAreRebuiltFromTheLogAndResumeWhereTheyStopped() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path, options: Self.options())
        let events = try sampleEventsOfEveryType()
        try await log.append(events)
        try await log.append(events)
        let head = try log.head().position
        // One row per event, keyed by its actor and position.
        let rows: (StoredEvent, TableTransaction) throws -> [TableRow] = { stored, _ in
            let event = try QSMEvent(stored)
            return [TableRow(table: "t", key: Array(event.actor.utf8) + [0, UInt8(stored.position)], value: [UInt8(event.type)])]
        }
        #expect(try log.tablesPosition() == 0, "appends outside a table-keeping writer write no rows")
        try log.rebuildTables(through: head / 2, chunk: 3, rows: rows)
        #expect(try log.tablesPosition() == head / 2)
        #expect(try log.tableCount("t") == Int(head / 2))
        try log.rebuildTables(from: head / 2 + 1, through: head, chunk: 5, rows: rows)
        #expect(try log.tablesPosition() == head)
        let resumed = try log.tableDigest(["t"]).digest

        try log.rebuildTables(through: head, rows: rows)
        let whole = try log.tableDigest(["t"])
        #expect(whole.position == head)
        #expect(whole.digest == resumed, "resuming gives the rows of one whole rebuild")
        var image = TableImage()
        for stored in try log.read(from: 1, limit: Int(head)) {
            for row in try log.readTables({ try rows(stored, $0) }) { image.apply(row) }
        }
        #expect(image.digest(of: ["t"]) == resumed)
    }
}
