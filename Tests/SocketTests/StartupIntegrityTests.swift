import EventLog
import Foundation
import QSMEvents
import QSMClient
import QSMTesting
import Testing

/// What qsmd does with a log that was cut back, rewritten or left without its signing key (security
/// review, issue 16 items 1 and 10): it never hands out key material twice, refuses to serve a log that
/// fails its start-up check until the operator says so, and VerifyChain checks signatures, not only hashes.
/// The attacker is tools/audit/tamper.py (python3-lmdb), editing the stopped daemon's log.
@Suite("Start-up integrity", .serialized)
struct StartupIntegrityTests {
    static let python = ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3"
    static let tamper = Products.packageRoot + "/tools/audit/tamper.py"

    private func tamper(_ data: String, _ arguments: [String]) async throws {
        let (status, _, stderr) = try await ChildProcess.run(
            Self.python, [Self.tamper] + arguments.prefix(1) + ["--log", data + "/log"] + arguments.dropFirst())
        try #require(status == 0, "tamper.py (python3-lmdb): \(stderr)")
    }

    /// Starts qsmd on `directory` expecting it to refuse; its status and standard error. One that serves
    /// instead is stopped after 30 s (status 124).
    private func refusedStart(_ directory: TemporaryDirectory, _ arguments: [String] = []) async throws -> (Int32, String) {
        let data = directory.appending("data")
        let (status, _, stderr) = try await ChildProcess.run(
            "/usr/bin/timeout",
            ["30", Products.qsmd, "--data", data, "--socket", directory.appending("qsm.sock"), "--config", directory.appending("qsmd.json")]
                + arguments)
        return (status, stderr)
    }

    private func sent(_ events: [QSMEvent], after position: UInt64 = 0) -> [QSMMessageSent] {
        events.compactMap { event in
            guard event.position > position, case .messageSent(let sent)? = event.body else { return nil }
            return sent
        }
    }

    private func bits(_ ranges: [QSMPoolRange]) -> [ClosedRange<UInt64>] {
        ranges.map { $0.start...($0.start + $0.length - 1) }
    }

    /// The review's reproduction: an otp and an aes message, SIGKILL, the log cut back to before them
    /// (events, chain, indexes, snapshots), a restart and two messages of the same lengths. The old
    /// daemon gave the new ones the deleted ones' pool bits and aes block and nonce.
    @Test func aLogCutBackNeverHandsOutTheSameKeyMaterialAgain() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-cutback")
        let witness = directory.appending("witness.ndjson")
        var daemon = try await Daemon(directory: directory, settings: cheapSettings(), arguments: ["--witness", witness])
        var client = try await QSMConnection.connect(socketPath: daemon.socket)
        var alice = try await client.registerAndLogin("alice")
        _ = try await client.registerAndLogin("bob")
        _ = try await client.call(BrokerAPI.EstablishKey(token: alice, peer: "bob"))
        let cut = try readLog(daemon.data).events.last!.position
        _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "the first secret", mode: "otp"))
        _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "the other secret", mode: "aes"))
        daemon.process.kill(SIGKILL)
        _ = try await daemon.process.wait()
        let before = sent(try readLog(daemon.data).events, after: cut)
        try #require(before.map(\.mode) == [.otp, .aes])

        try await tamper(daemon.data, ["truncate", "--keep", "\(cut)"])
        daemon = try await Daemon(directory: directory, settings: cheapSettings(), arguments: ["--witness", witness])
        client = try await QSMConnection.connect(socketPath: daemon.socket)
        alice = try await client.login("alice")
        _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "a new message 16", mode: "otp"))
        _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "another new one!", mode: "aes"))
        let log = try readLog(daemon.data)
        let after = sent(log.events, after: cut)
        try #require(after.map(\.mode) == [.otp, .aes])
        #expect(try await daemon.stop() == 0)

        for old in bits(before[0].poolRanges) {
            for new in bits(after[0].poolRanges) {
                #expect(!old.overlaps(new), "otp pool bits \(new) were handed out again (deleted message had \(old))")
            }
        }
        #expect(bits(before[1].poolRanges) != bits(after[1].poolRanges), "the same aes block was used again")
        #expect(before[1].nonce != after[1].nonce || bits(before[1].poolRanges) != bits(after[1].poolRanges))
        let retired = log.events.compactMap { event -> QSMKeyMaterialRetired? in
            if case .keyMaterialRetired(let retired)? = event.body { retired } else { nil }
        }
        #expect(retired.contains { $0.cause == "start" && $0.pairs == 1 }, "the restart retired the pair's key material")
    }

    /// A log cut back behind the checkpoints its witness saw: qsmd refuses it with one line naming the
    /// option, serves it with --accept-damaged-log (recording that and retiring every key in force), and
    /// then starts again without the option.
    @Test func aLogBehindItsWitnessIsRefusedUntilTheOperatorAcceptsIt() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-behind")
        let witness = directory.appending("witness.ndjson")
        let settings = cheapSettings(["checkpointEvery": 4])
        var daemon = try await Daemon(directory: directory, settings: settings, arguments: ["--witness", witness])
        var client = try await QSMConnection.connect(socketPath: daemon.socket)
        let alice = try await client.registerAndLogin("alice")
        _ = try await client.registerAndLogin("bob")
        _ = try await client.call(BrokerAPI.EstablishKey(token: alice, peer: "bob"))
        let cut = try readLog(daemon.data).events.last!.position
        for index in 0..<6 { _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "m\(index)")) }
        #expect(try await daemon.stop() == 0)
        let witnessed = try String(contentsOfFile: witness, encoding: .utf8).split(separator: "\n").count
        try #require(witnessed >= 2)

        try await tamper(daemon.data, ["truncate", "--keep", "\(cut)"])
        let (status, stderr) = try await refusedStart(directory, ["--witness", witness])
        #expect(status == 65)
        let critical = stderr.split(separator: "\n").filter { $0.contains("Refusing to start") }
        #expect(critical.count == 1, "one line says why: \(stderr)")
        #expect(critical.first?.contains("cut back") == true && critical.first?.contains("--accept-damaged-log") == true, "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: daemon.socket) || !Daemon.answers(daemon.socket))

        daemon = try await Daemon(directory: directory, settings: settings, arguments: ["--witness", witness, "--accept-damaged-log"])
        client = try await QSMConnection.connect(socketPath: daemon.socket)
        let token = try await client.login("alice")
        _ = try await client.call(BrokerAPI.Send(token: token, to: "bob", body: "after the restore"))
        #expect(try await daemon.stop() == 0)
        let accepted = try readLog(daemon.data).events.compactMap { event -> QSMKeyMaterialRetired? in
            if case .keyMaterialRetired(let retired)? = event.body, retired.cause == "damaged-log-accepted" { retired } else { nil }
        }
        #expect(accepted.count == 1 && accepted.first?.detail.contains("cut back") == true && accepted.first?.pairs == 1)

        // The witness now ends with what the log holds: the next start needs no option.
        daemon = try await Daemon(directory: directory, settings: settings, arguments: ["--witness", witness])
        #expect(try await daemon.stop() == 0)
    }

    /// A byte changed after the last checkpoint breaks the chain's tail; a rewrite with the chain
    /// recomputed no longer matches the hash the last checkpoint signed. Both are refused at start; served
    /// anyway, VerifyChain says what the chain alone does not (it checks the signed checkpoints too).
    @Test func aBrokenOrRewrittenChainIsRefusedAndVerifyChainChecksSignatures() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-rewrite")
        let settings = cheapSettings(["checkpointEvery": 1_000_000, "checkpointIntervalSeconds": 0])
        var daemon = try await Daemon(directory: directory, settings: settings)
        var client = try await QSMConnection.connect(socketPath: daemon.socket)
        for user in ["alice", "bob", "carol"] { _ = try await client.registerAndLogin(user) }
        #expect(try await daemon.stop() == 0)
        // The closing checkpoint signs everything before it; one more run appends after it, and is killed
        // before it can sign that.
        daemon = try await Daemon(directory: directory, settings: settings)
        client = try await QSMConnection.connect(socketPath: daemon.socket)
        _ = try await client.login("alice")
        daemon.process.kill(SIGKILL)
        _ = try await daemon.process.wait()
        let events = try readLog(daemon.data).events
        let checkpoint = try #require(events.last { $0.type == EventType.checkpointSigned.rawValue })
        let tail = try #require(events.last { $0.position > checkpoint.position && $0.type == EventType.loginSucceeded.rawValue })

        let pristine = directory.appending("pristine")
        try FileManager.default.copyItem(atPath: daemon.data, toPath: pristine)
        try await tamper(daemon.data, ["flip", "--position", "\(tail.position)"])
        var (status, stderr) = try await refusedStart(directory)
        #expect(status == 65 && stderr.contains("hash chain breaks at \(tail.position)"), "\(stderr)")

        try FileManager.default.removeItem(atPath: daemon.data)
        try FileManager.default.copyItem(atPath: pristine, toPath: daemon.data)
        try await tamper(daemon.data, ["rewrite", "--position", "3"])
        (status, stderr) = try await refusedStart(directory)
        #expect(status == 65 && stderr.contains("rewritten"), "\(stderr)")

        daemon = try await Daemon(directory: directory, settings: settings, arguments: ["--accept-damaged-log"])
        client = try await QSMConnection.connect(socketPath: daemon.socket)
        let report = try await client.call(AdminAPI.VerifyChain())
        #expect(!report.ok, "a re-hashed log fails its signed checkpoints: \(report)")
        #expect(report.firstBadPosition.map { $0 <= Int(checkpoint.position) } == true, "\(report)")
        #expect(try await daemon.stop() == 0)
    }

    /// Without its signing key qsmd does not make a new one behind the operator's back; with
    /// --new-signing-key it does and the log says so, and later starts need nothing more.
    @Test func aMissingSigningKeyIsRefusedUnlessTheOperatorAsksForANewOne() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-signing")
        var daemon = try await Daemon(directory: directory, settings: cheapSettings())
        _ = try await registerAndLogin("alice", socket: daemon.socket)
        #expect(try await daemon.stop() == 0)
        let old = try readLog(daemon.data).events.last { $0.type == EventType.checkpointSigned.rawValue }
        try #require(old != nil)
        try FileManager.default.removeItem(atPath: daemon.data + "/signing.key")

        let (status, stderr) = try await refusedStart(directory)
        #expect(status == 65 && stderr.contains("signing.key is missing") && stderr.contains("--new-signing-key"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: daemon.data + "/signing.key"), "no key was made")

        daemon = try await Daemon(directory: directory, settings: cheapSettings(), arguments: ["--new-signing-key"])
        #expect(try await daemon.stop() == 0)
        let replaced = try readLog(daemon.data).events.compactMap { event -> QSMSigningKeyReplaced? in
            if case .signingKeyReplaced(let replaced)? = event.body { replaced } else { nil }
        }
        #expect(replaced.count == 1)
        if case .checkpointSigned(let signed)? = old?.body { #expect(replaced.first?.previousPublicKeyID == signed.publicKeyID) }
        daemon = try await Daemon(directory: directory, settings: cheapSettings())
        #expect(try await daemon.stop() == 0)
    }
}
