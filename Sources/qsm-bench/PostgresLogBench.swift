import EventLog
import EventLogPostgres
import Foundation
import QSMEvents
import QSMTesting

/// `tools/bench log --store postgresql`: durable appends from 64 callers to the log on a throwaway
/// PostgreSQL server, against raw batched INSERTs of the same rows into a table of the same shape
/// (pgbench, 64 clients, 64 rows a statement, synchronous_commit on), in the same run.
enum PostgresLogBench {
    static func run(_ options: [String]) async throws {
        var settings = LogBench.Settings()
        settings.eventsPerCaller = 500
        try settings.parse(options)
        let server = try PostgresTestServer.shared()
        let database = try server.createDatabase()
        let store = try await PostgresLogStore.open(
            try PostgresLocation(server.socketURL(database: database)), password: nil)
        var generator = SeededGenerator(seed: 42)
        let pool = try (0..<4096).map { _ in try SampleEvents.message(recordSize: 300, using: &generator) }

        let clock = ContinuousClock()
        let callers = 64
        let perCaller = settings.eventsPerCaller
        let elapsed = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        for index in 0..<perCaller {
                            try await store.append([pool[(caller &* 7919 &+ index) % pool.count]])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let events = callers * perCaller
        let append = Double(events) / elapsed.seconds
        print(String(format: "pg-log-append-64: %.0f events/s (%d events, durable)", append, events))
        guard try await store.verify(from: 1, progress: nil, visit: nil).isValid else { throw BenchError("the benchmark's log does not verify") }
        await store.close()

        // The same rows, copied server-side into a template, inserted 64 a statement by 64 clients.
        try server.psql(
            """
            CREATE TABLE raw_template AS SELECT * FROM events; ALTER TABLE raw_template ADD PRIMARY KEY (position); \
            CREATE TABLE raw_events (LIKE events INCLUDING ALL); \
            CREATE INDEX ON raw_events (actor, position) WHERE actor <> ''; CREATE INDEX ON raw_events (type, position); \
            CREATE SEQUENCE raw_position
            """, database: database)
        let script = server.directory + "/raw-insert.sql"
        try """
            \\set base random(0, \(events - 64))
            INSERT INTO raw_events (position, record, chain, type, actor) SELECT nextval('raw_position'), record, chain, type, actor FROM raw_template WHERE position > :base AND position <= :base + 64;

            """.write(toFile: script, atomically: true, encoding: .utf8)
        // A fixed count per client: pgbench -T did not end here (seen with 15.18 on 2 cores).
        let report = try server.pgbench(["-n", "-c", "64", "-j", "2", "-t", "40", "-f", script], database: database)
        guard let tpsLine = report.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(tpsLine.dropFirst(6).prefix(while: { $0 != " " }))
        else { throw BenchError("pgbench printed no tps line: \(report.suffix(300))") }
        let raw = tps * 64
        print(String(format: "raw-pg: %.0f rows/s (pgbench, 64 clients, 64 rows a statement)", raw))
        print(String(format: "pg-log-append: %.0f raw-pg %.0f ratio %.2f", append, raw, append / raw))
        server.stop()
    }
}
