import EventLog
import EventLogPostgres
import Foundation
import QSMEvents
import QSMTesting
import Testing

/// What only the PostgreSQL backend has: several writers on one database, a server, a URL and a password.
@Suite("PostgreSQL log")
struct PostgresTests {
    private func messages(_ count: Int, seed: UInt64) throws -> [NewEvent] {
        var generator = SeededGenerator(seed: seed)
        return try (0..<count).map { _ in try SampleEvents.message(using: &generator) }
    }

    @Test func twoWritersAtOneExpectedHeadOneWinsAndTheChainDoesNotFork() async throws {
        let (source, first) = try await TestLog.make(.postgresql)
        try await first.append(try messages(10, seed: 1))
        let second = try await source.open()
        let head = try await second.head()
        #expect(head.position == 10)

        // Both build a batch on the same head, as two qsmd would, and race to append it.
        var batchA = RecordBatch(after: head)
        var batchB = RecordBatch(after: head)
        for event in try messages(5, seed: 2) { try batchA.append(event, at: 1) }
        for event in try messages(7, seed: 3) { try batchB.append(event, at: 1) }
        async let a = attempt { () async throws(EventLogError) in try await first.append(batchA) }
        async let b = attempt { () async throws(EventLogError) in try await second.append(batchB) }
        let outcomes = await [a, b]

        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let losers = outcomes.compactMap { outcome -> EventLogError? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        #expect(losers.count == 1)
        guard case .conflict(_, let expected, let found)? = losers.first else {
            Issue.record("the loser got \(String(describing: losers.first)), not a conflict")
            return
        }
        #expect(expected == 10)
        let winner = try #require(winners.first)
        #expect(found == winner.position)
        #expect(try await first.head() == winner)
        let report = try await second.verify(from: 1, progress: nil, visit: nil)
        #expect(report.isValid && report.verifiedEvents == winner.position && report.verifiedHash == winner.hash)
        // The loser rebuilds on the new head and gets in.
        var retry = RecordBatch(after: try await second.head())
        for event in try messages(7, seed: 3) { try retry.append(event, at: 1) }
        #expect(try await second.append(retry).position == winner.position + 7)
        #expect(try await first.verify(from: 1, progress: nil, visit: nil).isValid)
    }

    @Test func concurrentAppendsThroughTwoStoresLandOnOneDenseChain() async throws {
        let (source, first) = try await TestLog.make(.postgresql)
        let second = try await source.open()
        let stores = [first, second]
        let positions = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for task in 0..<16 {
                let events = try messages(3, seed: UInt64(100 + task))
                let store = stores[task % 2]
                group.addTask {
                    var mine: [UInt64] = []
                    for _ in 0..<10 { mine += try await store.append(events) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(positions.sorted() == Array(1...480))
        let report = try await first.verify(from: 1, progress: nil, visit: nil)
        #expect(report.isValid && report.verifiedEvents == 480)
    }

    @Test func badURLsArePlainOneLineErrors() throws {
        let cases: [(String, String)] = [
            ("postgresql://", "names no user"),
            ("mysql://qsm@localhost/qsm", "is not a PostgreSQL URL"),
            ("postgresql://qsm@localhost", "names no database"),
            ("postgresql://qsm@localhost:99999/qsm", "port 99999 is out of range"),
            ("postgresql://qsm:hunter2@localhost/qsm", "carries a password"),
            ("postgresql://qsm@localhost/qsm?sslmode=disable", "unknown parameter 'sslmode'"),
        ]
        for (url, expected) in cases {
            #expect {
                _ = try PostgresLocation(url)
            } throws: { error in
                let text = "\(error)"
                return text.contains(expected) && !text.contains("\n") && !text.contains("hunter2")
            }
        }
        #expect(try PostgresLocation("postgresql://qsm@db.example:6543/events").description
            == "postgresql://qsm@db.example:6543/events")
    }

    @Test func unreachableServersAndRefusedCredentialsSayWhatIsWrong() async throws {
        let server = try PostgresTestServer.shared()
        let database = try server.createDatabase()
        let location = try PostgresLocation(server.url(database: database))
        // Nothing listens on port 1 of the loopback address.
        let nowhere = try PostgresLocation("postgresql://postgres@127.0.0.1:1/\(database)")
        await expectOneLine(contains: "cannot connect to the PostgreSQL server") {
            _ = try await PostgresLogStore.open(nowhere, password: server.password)
        }
        await expectOneLine(contains: "refused the credentials") {
            _ = try await PostgresLogStore.open(location, password: "not-the-password")
        }
        await expectOneLine(contains: "asks for a password") {
            _ = try await PostgresLogStore.open(location, password: nil)
        }
        let missing = try PostgresLocation(server.url(database: "no_such_database"))
        await expectOneLine(contains: "does not exist") {
            _ = try await PostgresLogStore.open(missing, password: server.password)
        }
        // The right password, from a file as qsm's --store-password-file reads it.
        let directory = try TemporaryDirectory()
        let file = directory.appending("password")
        try Data((server.password + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let password = try PostgresLocation.password(file: file, environment: [:])
        #expect(try await PostgresLogStore.open(location, password: password).head() == LogHead.empty)
        #expect(try PostgresLocation.password(file: nil, environment: ["PGPASSWORD": "p"]) == "p")
    }

    @Test func anotherLogAnOlderFormatAndForeignTablesAreRefused() async throws {
        let server = try PostgresTestServer.shared()
        let (source, log) = try await TestLog.make(.postgresql)
        try await log.append(try messages(3, seed: 4))
        let location = try PostgresLocation(source.location)
        let database = try #require(source.database)

        let other = UUID()
        await expectOneLine(contains: "holds another log (id \(log.meta.logID.uuidString.lowercased()), not") {
            _ = try await PostgresLogStore.open(location, password: nil, expectedLogID: other)
        }
        #expect(try await PostgresLogStore.open(location, password: nil, expectedLogID: log.meta.logID).head().position == 3)

        try server.psql("UPDATE qsm_meta SET value = '0' WHERE key = 'format_version'", database: database)
        await expectOneLine(contains: "format 0, older than this build's \(LogMeta.currentFormatVersion)") {
            _ = try await PostgresLogStore.open(location, password: nil, mode: .readOnly)
        }

        let foreign = try server.createDatabase()
        try server.psql("CREATE TABLE events (id serial primary key, note text)", database: foreign)
        let foreignLocation = try PostgresLocation(server.socketURL(database: foreign))
        await expectOneLine(contains: "is not a qsm event log (it has an events table but no qsm_meta table)") {
            _ = try await PostgresLogStore.open(foreignLocation, password: nil)
        }
        let empty = try PostgresLocation(server.socketURL(database: try server.createDatabase()))
        await expectOneLine(contains: "the database has no qsm tables") {
            _ = try await PostgresLogStore.open(empty, password: nil, mode: .readOnly)
        }
    }

    @Test func verifyNamesTheFirstGapAndTheFirstChangedChainHash() async throws {
        let server = try PostgresTestServer.shared()
        let (source, log) = try await TestLog.make(.postgresql)
        try await log.append(try messages(100, seed: 5))
        let database = try #require(source.database)
        let good = try await log.chainHash(at: 36)

        try server.psql("UPDATE events SET chain = sha256(chain) WHERE position = 80", database: database)
        var report = try await log.verify(from: 1, progress: nil, visit: nil)
        #expect(report.firstProblem?.position == 80)
        #expect(report.firstProblem?.problem == .hashMismatch)

        try server.psql("DELETE FROM events WHERE position = 37", database: database)
        report = try await log.verify(from: 1, progress: nil, visit: nil)
        #expect(report.firstProblem?.position == 37)
        #expect(report.firstProblem?.problem == .gap(found: 38))
        #expect(report.verifiedEvents == 36 && report.verifiedHash == good)
        // A writer at the old head cannot fill the hole: the batch does not follow the head.
        var batch = RecordBatch(after: LogHead(position: 36, hash: try #require(good), lastRecordedAtMicros: 0))
        try batch.append(try messages(1, seed: 6)[0], at: 1)
        await #expect(throws: EventLogError.self) { _ = try await log.append(batch) }
    }

    private func attempt(_ body: () async throws(EventLogError) -> LogHead) async -> Result<LogHead, EventLogError> {
        do throws(EventLogError) {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    private func expectOneLine(
        contains expected: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("no error; expected one containing '\(expected)'", sourceLocation: sourceLocation)
        } catch {
            let text = "\(error)"
            #expect(text.contains(expected), "\(text)", sourceLocation: sourceLocation)
            #expect(!text.contains("\n"), sourceLocation: sourceLocation)
        }
    }
}
