import CLMDB
import EventLog
import Foundation
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

@Suite("Bad input")
struct BadInputTests {
    @Test func aDirectoryWithOtherFilesIsNotALogAndIsLeftAlone() throws {
        let directory = try TemporaryDirectory()
        try Data("hello".utf8).write(to: URL(fileURLWithPath: directory.appending("notes.txt")))
        #expect(throws: EventLogError.self) { try EventStore(directory: directory.path) }
        do {
            _ = try EventStore(directory: directory.path)
        } catch {
            #expect(error.description.contains(directory.path) && error.description.contains("not a qsm event log"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["notes.txt"])
    }

    @Test func aGarbageDataFileIsNotALogAndIsNotChanged() throws {
        let directory = try TemporaryDirectory()
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: directory.appending("data.mdb")))
        for mode in [EventStore.Mode.readWrite, .readOnly] {
            #expect {
                try EventStore(directory: directory.path, mode: mode)
            } throws: { error in
                guard case .notALog(let path, _) = error as? EventLogError else { return false }
                return path == directory.path
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.appending("data.mdb"))) == garbage)
    }

    @Test func anLMDBEnvironmentWithoutQSMMetaIsNotALog() throws {
        let directory = try TemporaryDirectory()
        try withRawEnvironment(directory.path) { env, txn in
            var dbi: MDB_dbi = 0
            #expect(mdb_dbi_open(txn, "something-else", UInt32(MDB_CREATE), &dbi) == 0)
        }
        #expect {
            try EventStore(directory: directory.path)
        } throws: { error in
            guard case .notALog = error as? EventLogError else { return false }
            return true
        }
    }

    @Test func aLogOfANewerFormatIsRefusedWithBothVersions() async throws {
        let directory = try TemporaryDirectory()
        try EventStore(directory: directory.path).close()
        try withRawEnvironment(directory.path) { env, txn in
            var dbi: MDB_dbi = 0
            #expect(mdb_dbi_open(txn, "meta", 0, &dbi) == 0)
            var key = Array("format_version".utf8)
            var value: [UInt8] = [0, 0, 0, 99]
            key.withUnsafeMutableBytes { k in
                value.withUnsafeMutableBytes { v in
                    var mk = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                    var mv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                    #expect(mdb_put(txn, dbi, &mk, &mv, 0) == 0)
                }
            }
        }
        for mode in [EventStore.Mode.readWrite, .readOnly] {
            #expect(throws: EventLogError.newerFormat(path: directory.path, found: 99, supported: LogMeta.currentFormatVersion)) {
                try EventStore(directory: directory.path, mode: mode)
            }
        }
    }

    @Test func readOnlyOpensNeverCreate() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.appending("missing")
        #expect(throws: EventLogError.notFound(path: missing)) { try EventStore(directory: missing, mode: .readOnly) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(throws: EventLogError.self) { try EventStore(directory: directory.path, mode: .readOnly) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func aSecondWriterIsRefusedInThisProcessAndInAnother() async throws {
        let directory = try TemporaryDirectory()
        let log = try EventStore(directory: directory.path)
        #expect {
            try EventStore(directory: directory.path)
        } throws: { error in
            guard case .alreadyLocked(let path, let holder) = error as? EventLogError else { return false }
            return path == directory.path && holder == "pid \(getpid())"
        }
        let (status, lines, _) = try await ChildProcess.run(Products.logload, ["open", "--dir", directory.path])
        #expect(status == 1)
        #expect(lines.first?.hasPrefix("error alreadyLocked") == true)
        // Readers are welcome beside the writer.
        let (readerStatus, readerLines, _) = try await ChildProcess.run(
            Products.logload, ["open", "--dir", directory.path, "--read-only"])
        #expect(readerStatus == 0 && readerLines == ["ok 0"])
        log.close()
    }

    @Test func aWriterKilledWithoutClosingLeavesNoStaleLock() async throws {
        let directory = try TemporaryDirectory()
        let holder = try ChildProcess(Products.logload, ["hold", "--dir", directory.path])
        #expect(try await holder.waitForLine { $0 == "holding" })
        #expect(throws: EventLogError.self) { try EventStore(directory: directory.path) }
        holder.kill()
        try await holder.wait()
        let log = try EventStore(directory: directory.path)
        #expect(try log.head().position == 0)
    }

    /// Permission checks are done as an unprivileged user (root may write anywhere).
    @Test func aDirectoryWithoutPermissionGivesPermissionDenied() async throws {
        let directory = try TemporaryDirectory()
        let logPath = directory.appending("log")
        try EventStore(directory: logPath).close()
        chmod(directory.path, 0o755)
        chmod(logPath, 0o555)
        defer { chmod(logPath, 0o700) }
        for (arguments, expected) in [(["open", "--dir", logPath], "error permissionDenied"),
                                      (["open", "--dir", logPath + "/new"], "error permissionDenied")] {
            let (status, lines, stderr) = try await runUnprivileged(Products.logload, arguments)
            #expect(status == 1, "\(lines) \(stderr)")
            #expect(lines.first?.hasPrefix(expected) == true, "\(lines) \(stderr)")
            #expect(lines.first?.contains(logPath) == true)
        }
    }

    @Test func aFullDiskRefusesAppendsLosesNothingAndRecoversWhenSpaceIsFreed() async throws {
        let directory = try TemporaryDirectory()
        let mount = directory.appending("small")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        // In a private mount namespace: a 4 MiB tmpfs, a filler, fill the log, free space, go on. Four
        // tasks acknowledge in any order, so the highest position is found by sorting, not the last line.
        let script = """
            set -e
            mount -t tmpfs -o size=4m tmpfs '\(mount)'
            head -c 1048576 /dev/zero > '\(mount)/filler'
            '\(Products.logload)' fill --dir '\(mount)/log' --batch 16 --free '\(mount)/filler'
            '\(Products.logload)' verify --dir '\(mount)/log'
            '\(Products.logload)' append --dir '\(mount)/log' --count 100 --tasks 4 | sort -n -k 2 | tail -n 1
            '\(Products.logload)' verify --dir '\(mount)/log'
            cp -a '\(mount)/log' '\(directory.appending("kept"))'
            """
        let unshare = getuid() == 0 ? ["-m"] : ["-r", "-m"]
        let (status, lines, stderr) = try await ChildProcess.run("/usr/bin/unshare", unshare + ["/bin/sh", "-c", script])
        #expect(status == 0, "\(lines) \(stderr)")
        #expect(lines.count == 6, "\(lines) \(stderr)")
        guard lines.count == 6 else { return }
        let acknowledged = try #require(Int(lines[0].split(separator: " ")[1]))
        #expect(acknowledged > 0)
        #expect(lines[1].hasPrefix("error diskFull: \(mount)/log: no space left"), "\(lines[1])")
        // The same open log goes on once space is freed, without reopening.
        #expect(lines[2] == "after-free acked \(acknowledged + 16)", "\(lines[2])")
        #expect(lines[3].hasPrefix("valid \(acknowledged + 16) "), "every acknowledged event, and only those: \(lines[3])")
        #expect(lines[4].hasPrefix("acked \(acknowledged + 116) "), "\(lines[4])")
        #expect(lines[5].hasPrefix("valid \(acknowledged + 116) "), "\(lines[5])")
        try Self.expectTheEventsThemselves(in: directory.appending("kept"), filledBeforeFull: acknowledged)
    }

    /// Compares the kept log event by event with what qsm-logload appended: `fill` draws 1,000-byte
    /// messages from generator seed 1 in batches of 16 (the batch the full disk refused is drawn and
    /// dropped), `append` 100 messages from four tasks, task t drawing from seed t with sender loader-t
    /// and the sequence number in the correlation id.
    static func expectTheEventsThemselves(in directory: String, filledBeforeFull acknowledged: Int) throws {
        let log = try EventStore(directory: directory, mode: .readOnly)
        defer { log.close() }
        var stored: [StoredEvent] = []
        try log.forEach(from: 1) { stored.append($0); return true }
        #expect(stored.count == acknowledged + 116)
        func same(_ event: StoredEvent, _ expected: NewEvent, _ what: String) throws {
            let header = try event.header()
            let body: Data? = try QSMEvent(event).body?.message.serializedBytes()
            #expect(header.type == expected.type && header.actor == expected.actor && body == expected.body
                    && header.correlationID == expected.correlationID, "position \(event.position): \(what)")
        }
        var filler = SeededGenerator(seed: 1)
        let drawn = try (0..<acknowledged + 32).map { _ in try SampleEvents.message(recordSize: 1000, using: &filler) }
        let filled = Array(drawn[..<acknowledged]) + drawn[(acknowledged + 16)...]
        for (event, expected) in zip(stored, filled) { try same(event, expected, "the fill's events, in order") }
        // Each task's events appear in the order it drew them; together they carry sequences 1...100 once.
        var generators = (0..<4).map { SeededGenerator(seed: UInt64($0)) }
        var sequences: [UInt64] = []
        for event in stored.dropFirst(acknowledged + 16) {
            let header = try event.header()
            let task = try #require(Int(header.actor.dropFirst("loader-".count)), "actor \(header.actor)")
            try #require((0..<4).contains(task))
            var expected = try SampleEvents.message(sender: "loader-\(task)", using: &generators[task])
            expected.correlationID = header.correlationID
            try same(event, expected, "task \(task)'s next event")
            sequences.append(header.correlationID.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        #expect(sequences.sorted() == Array(1...100))
    }
}

/// Opens `directory` with raw LMDB (no qsm code) and runs `body` in a write transaction.
private func withRawEnvironment(_ directory: String, _ body: (OpaquePointer, OpaquePointer) throws -> Void) throws {
    var env: OpaquePointer?
    #expect(mdb_env_create(&env) == 0)
    defer { mdb_env_close(env) }
    mdb_env_set_maxdbs(env, 16)
    #expect(mdb_env_open(env, directory, 0, 0o600) == 0)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
    try body(env!, txn!)
    #expect(mdb_txn_commit(txn) == 0)
}

/// Runs a command as `nobody` when we are root, else as ourselves.
private func runUnprivileged(_ executable: String, _ arguments: [String]) async throws -> (Int32, [String], String) {
    if getuid() != 0 { return try await ChildProcess.run(executable, arguments) }
    // nobody must be able to reach the executable: build directories are usually world-readable.
    return try await ChildProcess.run(
        "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", executable] + arguments)
}
