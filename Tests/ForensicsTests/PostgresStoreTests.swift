import Broker
import EventLog
import Foundation
import QSMTesting
import Testing

/// The offline commands on a log in PostgreSQL, through the qsm binary against a throwaway server.
@Suite("qsm on a PostgreSQL store")
struct PostgresStoreTests {
    /// A data directory whose log holds `count` messages, and a public key file for audit verify (the
    /// log has no checkpoints, so no signature is checked against it).
    private func dataDirectory(count: Int, seed: UInt64) async throws -> (TemporaryDirectory, key: String) {
        let data = try TemporaryDirectory()
        let log = try EventStore(directory: data.appending("log"))
        var generator = SeededGenerator(seed: seed)
        try await log.append(try (0..<count).map { _ in try SampleEvents.message(using: &generator) })
        log.close()
        let key = data.appending("signing.pem")
        try SigningPublicKeyFile.pem(for: Data(count: SigningPublicKeyFile.publicKeyBytes))
            .write(toFile: key, atomically: true, encoding: .utf8)
        return (data, key)
    }

    private func json(_ run: QSMRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: run.output) as? [String: Any])
    }

    @Test func aLogCopiedFromADataDirectoryVerifiesWithTheSameHeadHash() async throws {
        let server = try PostgresTestServer.shared()
        let url = server.url(database: try server.createDatabase())
        let (data, key) = try await dataDirectory(count: 1000, seed: 1)
        let password = data.appending("pg-password")
        try server.password.write(toFile: password, atomically: true, encoding: .utf8)

        let lmdb = try await runQSM(["audit", "verify", "--data", data.path, "--pubkey", key, "--json"])
        #expect(lmdb.status == 0, "\(lmdb.standardError)")
        let copy = try await runQSM(["log", "copy", "--from", data.path, "--to", url, "--store-password-file", password])
        #expect(copy.status == 0, "\(copy.standardError)")
        #expect(copy.standardError.contains("copying: 1000 of 1000 events"))
        let store = ["--store", url, "--store-password-file", password, "--pubkey", key]
        let postgres = try await runQSM(["audit", "verify", "--json"] + store)
        #expect(postgres.status == 0, "\(postgres.standardError)")
        let (before, after) = (try json(lmdb), try json(postgres))
        #expect(after["valid"] as? Bool == true)
        #expect(after["verifiedEvents"] as? Int == 1000)
        #expect(after["hash"] as? String == before["hash"] as? String)

        // Copying again finds nothing to add; another data directory's log is refused.
        let again = try await runQSM(["log", "copy", "--from", data.path, "--to", url, "--store-password-file", password])
        #expect(again.status == 0 && again.text.contains("holds 1000 events"), "\(again.standardError)")
        let (other, _) = try await dataDirectory(count: 5, seed: 2)
        let refused = try await runQSM(["log", "copy", "--from", other.path, "--to", url, "--store-password-file", password])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("holds another log"), "\(refused.standardError)")
        #expect(refused.standardError.split(separator: "\n").count == 1)

        // A record changed in the database is named by its position.
        try server.psql(
            "UPDATE events SET record = set_byte(record, 40, get_byte(record, 40) # 1) WHERE position = 500",
            database: String(url.split(separator: "/").last ?? ""))
        let broken = try await runQSM(["audit", "verify"] + store)
        #expect(broken.status == 1)
        #expect(broken.text.contains("log BROKEN: first bad position 500"), "\(broken.text)")
    }

    @Test func badStoreArgumentsAreOneLineEach() async throws {
        let (data, key) = try await dataDirectory(count: 1, seed: 3)
        let cases: [([String], Int32, String)] = [
            (["audit", "verify", "--store", "postgresql://qsm:hunter2@localhost/qsm", "--pubkey", key], 64, "carries a password"),
            (["audit", "verify", "--store", "postgresql://qsm@localhost", "--pubkey", key], 64, "names no database"),
            (["audit", "verify", "--data", data.path, "--store", "postgresql://qsm@localhost/qsm"], 64, "not both"),
            (["audit", "verify", "--store", "postgresql://qsm@localhost/qsm"], 64, "pass --pubkey FILE"),
            (["audit", "verify", "--store", "postgresql://postgres@127.0.0.1:1/qsm", "--pubkey", key], 66,
             "cannot connect to the PostgreSQL server"),
            (["log", "copy", "--from", data.path, "--to", data.path], 64, "--to must be a postgresql:// URL"),
        ]
        for (arguments, status, words) in cases {
            let run = try await runQSM(arguments)
            #expect(run.status == status, "\(arguments): \(run.standardError)")
            let firstLine = run.standardError.split(separator: "\n").first.map(String.init) ?? ""
            #expect(firstLine.contains(words), "\(arguments): \(run.standardError)")
            #expect(!run.standardError.contains("hunter2"))
        }
    }
}
