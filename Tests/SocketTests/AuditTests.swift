import EventLog
import Foundation
import QSMTesting
import Synchronization
import Testing

/// qsm audit verify and qsm forensics rescan against logs written by a real qsmd: signed checkpoints and
/// a witness catch what the hash chain alone cannot (a rewrite with a recomputed chain, a truncation),
/// bad input gets a distinct exit status and writes nothing, and all of it works while qsmd appends.
@Suite("Audit", .serialized)
struct AuditTests {
    static let python = ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3"
    static let tamper = Products.packageRoot + "/tools/audit/tamper.py"
    static var settings: [String: Any] { [
        "allowCheapPasswordHashingForTests": true, "passwordMemoryKiB": 64, "passwordIterations": 1, "checkpointEvery": 8,
    ] }

    /// A stopped qsmd's data directory with checkpoints, a witness file and the public key saved apart.
    struct Audited {
        let directory: TemporaryDirectory
        let data: String
        let witness: String
        let pubkey: String
    }

    private func audited() async throws -> Audited {
        let directory = try TemporaryDirectory(prefix: "qsm-audit")
        let witness = directory.appending("witness.ndjson")
        let daemon = try await Daemon(directory: directory, settings: Self.settings, arguments: ["--witness", witness])
        let home = directory.appending("home")
        for index in 0..<6 {
            let (status, _, stderr) = try await daemon.qsm(["register", "user\(index)", "--password-stdin"], input: "password-\(index)", home: home)
            try #require(status == 0, "register: \(stderr)")
        }
        for _ in 0..<5 { _ = try await daemon.qsm(["login", "user0", "--password-stdin"], input: "wrong-password", home: home) }
        let pubkey = directory.appending("broker.pub")
        let (status, pem, _) = try await daemon.qsm(["audit", "pubkey", "--data", daemon.data], home: home)
        try #require(status == 0)
        try (pem + "\n").write(toFile: pubkey, atomically: true, encoding: .utf8)
        #expect(try await daemon.stop() == 0)
        return Audited(directory: daemon.directory, data: daemon.data, witness: witness, pubkey: pubkey)
    }

    /// Runs qsm; returns (status, stdout, stderr).
    private func qsm(_ arguments: [String]) async throws -> (Int32, String, String) {
        let (status, lines, stderr) = try await ChildProcess.run(Products.qsm, arguments)
        return (status, lines.joined(separator: "\n"), stderr)
    }

    private func verifyJSON(_ arguments: [String]) async throws -> (Int32, [String: Any]) {
        let (status, output, stderr) = try await qsm(["audit", "verify", "--json"] + arguments)
        let line = try #require(output.split(separator: "\n").last, "no output: \(stderr)")
        return (status, try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
    }

    /// A copy of the data directory, changed by tools/audit/tamper.py.
    private func tampered(_ audited: Audited, _ arguments: [String]) async throws -> String {
        let copy = audited.directory.appending("copy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(atPath: audited.data, toPath: copy)
        let (status, _, stderr) = try await ChildProcess.run(Self.python, [Self.tamper] + arguments.prefix(1) + ["--log", copy + "/log"] + arguments.dropFirst())
        try #require(status == 0, "tamper.py (python3-lmdb): \(stderr)")
        return copy
    }

    /// Names and contents of every file under `path`, to show a command wrote nothing. LMDB's lock.mdb is
    /// left out: every reader, even a read-only one, takes a slot in its reader table.
    private func fingerprint(_ path: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for case let name as String in FileManager.default.enumerator(atPath: path)! where !name.hasSuffix("lock.mdb") {
            if let data = FileManager.default.contents(atPath: path + "/" + name) { result[name] = data }
        }
        return result
    }

    @Test func aCleanLogVerifiesWithItsSignaturesAndWitness() async throws {
        let audited = try await audited()
        let before = try fingerprint(audited.data)
        let (status, report) = try await verifyJSON(["--data", audited.data, "--pubkey", audited.pubkey, "--witness", audited.witness])
        #expect(status == 0)
        #expect(report["valid"] as? Bool == true)
        let head = try EventStore(directory: audited.data + "/log", mode: .readOnly).head().position
        #expect(report["verifiedEvents"] as? Int == Int(head))
        // Every 8 events plus one at shutdown: at least head / 9 checkpoints, and the witness holds each.
        let checkpoints = try #require(report["checkpointsVerified"] as? Int)
        #expect(checkpoints >= Int(head) / 9)
        let witnessLines = try String(contentsOfFile: audited.witness, encoding: .utf8).split(separator: "\n").count
        #expect(report["witnessRecords"] as? Int == witnessLines && witnessLines == checkpoints)
        // The last checkpoint, taken at shutdown, signs everything before it.
        #expect(report["lastSignedPosition"] as? Int == Int(head) - 1)
        #expect(try fingerprint(audited.data) == before)
        // The saved key is the data directory's.
        #expect(try String(contentsOfFile: audited.pubkey, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            == String(contentsOfFile: audited.data + "/signing.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func oneChangedByteIsNamedByPosition() async throws {
        let audited = try await audited()
        for position in [3, 12] {
            let copy = try await tampered(audited, ["flip", "--position", "\(position)"])
            let (status, report) = try await verifyJSON(["--data", copy, "--pubkey", audited.pubkey])
            #expect(status == 1)
            #expect(report["firstBadPosition"] as? Int == position)
            #expect((report["problem"] as? String)?.contains("hash chain") == true)
        }
    }

    @Test func aRewrittenAndFullyRehashedChainIsCaughtByTheSignatures() async throws {
        let audited = try await audited()
        let copy = try await tampered(audited, ["rewrite", "--position", "5"])
        // The chain alone now looks intact...
        #expect(try EventStore(directory: copy + "/log", mode: .readOnly).verify().isValid)
        // ...but the first checkpoint after the change signed another hash.
        let (status, report) = try await verifyJSON(["--data", copy, "--pubkey", audited.pubkey])
        #expect(status == 1)
        let first = try #require(report["firstBadPosition"] as? Int)
        #expect(first >= 5 && first <= 5 + 9)
        #expect((report["problem"] as? String)?.contains("signed") == true)
    }

    @Test func aTruncatedLogIsCaughtAgainstTheWitness() async throws {
        let audited = try await audited()
        let head = try EventStore(directory: audited.data + "/log", mode: .readOnly).head().position
        // Cut off the last checkpoints: what is left verifies on its own, chain and signatures.
        let keep = Int(head) - 12
        let copy = try await tampered(audited, ["truncate", "--keep", "\(keep)"])
        let (alone, _) = try await verifyJSON(["--data", copy, "--pubkey", audited.pubkey])
        #expect(alone == 0)
        let (status, report) = try await verifyJSON(["--data", copy, "--pubkey", audited.pubkey, "--witness", audited.witness])
        #expect(status == 1)
        #expect(report["firstBadPosition"] as? Int == keep + 1)
        #expect((report["problem"] as? String)?.contains("truncated") == true)
    }

    @Test func badInputGetsADistinctStatusAndWritesNothing() async throws {
        let audited = try await audited()
        let before = try fingerprint(audited.data)
        let scratch = audited.directory.appending("bad")
        try FileManager.default.createDirectory(atPath: scratch + "/empty", withIntermediateDirectories: true)
        // A key of the right form that is not this broker's: a different ML-DSA-65 public key.
        let pem = try String(contentsOfFile: audited.pubkey, encoding: .utf8)
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var der = try #require(Data(base64Encoded: base64))
        for index in (der.count - 1952)..<der.count { der[index] = UInt8.random(in: 0...255) }
        let other = "-----BEGIN PUBLIC KEY-----\n" + der.base64EncodedString(options: .lineLength64Characters) + "\n-----END PUBLIC KEY-----\n"
        try other.write(toFile: scratch + "/other.pub", atomically: true, encoding: .utf8)
        try "not a key\n".write(toFile: scratch + "/garbage.pub", atomically: true, encoding: .utf8)
        try "{\"bruteForce\": {\"count\": \"five\"}}".write(toFile: scratch + "/rules.json", atomically: true, encoding: .utf8)
        try "{\"logId\": 1}\n".write(toFile: scratch + "/witness.ndjson", atomically: true, encoding: .utf8)
        // A damaged LMDB file: a copy whose data.mdb is overwritten with noise.
        try FileManager.default.copyItem(atPath: audited.data, toPath: scratch + "/damaged")
        try Data((0..<65536).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: scratch + "/damaged/log/data.mdb"))

        let cases: [(arguments: [String], status: Int32, says: String)] = [
            (["audit", "verify", "--data", scratch + "/empty"], 66, "log"),
            (["audit", "verify", "--data", scratch + "/damaged", "--pubkey", audited.pubkey], 66, "log"),
            (["audit", "verify", "--data", audited.data, "--pubkey", scratch + "/other.pub"], 1, "another key"),
            (["audit", "verify", "--data", audited.data, "--pubkey", scratch + "/garbage.pub"], 65, "public key"),
            (["audit", "verify", "--data", audited.data, "--witness", scratch + "/witness.ndjson"], 65, "witness"),
            (["audit", "pubkey", "--data", scratch + "/empty"], 66, "no public key"),
            (["forensics", "rescan", "--data", audited.data, "--rules", scratch + "/rules.json"], 78, "rules"),
            (["forensics", "rescan", "--data", scratch + "/empty"], 66, "log"),
        ]
        for (arguments, expected, says) in cases {
            let (status, output, stderr) = try await qsm(arguments)
            #expect(status == expected, "\(arguments): \(output) \(stderr)")
            #expect((output + stderr).contains(says), "\(arguments): \(output) \(stderr)")
        }
        #expect(try fingerprint(audited.data) == before)
        #expect(try fingerprint(scratch + "/empty").isEmpty)
    }

    @Test func verifyAndRescanWorkWhileQsmdAppends() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-audit-live")
        let witness = directory.appending("witness.ndjson")
        let daemon = try await Daemon(directory: directory, settings: Self.settings, arguments: ["--witness", witness])
        let home = directory.appending("home")
        // Writers keep registering and failing logins while the offline commands run.
        let rounds = WriterRounds()
        let writer = Task {
            var index = 0
            while !Task.isCancelled {
                _ = try await daemon.qsm(["register", "live\(index)", "--password-stdin"], input: "password-\(index)", home: home)
                _ = try await daemon.qsm(["login", "live\(index)", "--password-stdin"], input: "wrong-password", home: home)
                index += 1
                rounds.value.withLock { $0 = index }
            }
        }
        /// Waits until the writer has finished another round (a registration and a failed login) since `seen`.
        func writerMovedOn(from seen: Int) async throws -> Int {
            let deadline = ContinuousClock.now + .seconds(60)
            while rounds.value.withLock({ $0 }) <= seen && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let now = rounds.value.withLock { $0 }
            try #require(now > seen, "the writer made no progress within 60 s")
            return now
        }
        var seen = try await writerMovedOn(from: 0)
        var heads: [Int] = []
        for _ in 0..<3 {
            // Each verification starts after the log has grown since the last one began.
            seen = try await writerMovedOn(from: seen)
            let (status, report) = try await verifyJSON(["--data", daemon.data, "--witness", witness])
            #expect(status == 0, "\(report)")
            heads.append(report["verifiedEvents"] as? Int ?? 0)
            let (rescan, output, stderr) = try await qsm(["forensics", "rescan", "--data", daemon.data])
            #expect(rescan == 0, "\(stderr)")
            #expect(output.contains("0 new; 0 recorded alerts would not fire"), "\(output)")
        }
        writer.cancel()
        _ = try? await writer.value
        #expect(heads.first ?? 0 > 0 && heads.last! > heads.first!, "the log grew while it was verified: \(heads)")
        #expect(try await daemon.stop() == 0)
        let (status, _) = try await verifyJSON(["--data", daemon.data, "--witness", witness])
        #expect(status == 0)
    }
}

/// Rounds the live test's writer has finished, shared with the task that counts them.
private final class WriterRounds: Sendable {
    let value = Mutex(0)
}
