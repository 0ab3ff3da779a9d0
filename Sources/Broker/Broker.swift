public import EventLog
import Foundation
import Dispatch
import QSMCrypto
import QSMEvents
import Synchronization
import SwiftProtobuf
#if canImport(Glibc)
import Glibc
#endif

/// The qsm broker, in-process: commands are values decided against projection state by the log's one
/// writer, and their events appended in pipelined group commits; queries answer from the same state.
///
/// Expensive, stateless work (password hashing, BB84 runs, public-key sealing and opening) happens in the
/// caller's task, off the writer, before its command is queued, so many run at once; the decider then
/// checks that what that work assumed still holds.
public final class Broker: Sendable {
    public let configuration: BrokerConfiguration
    let store: EventStore
    let stage: BrokerStage
    let writer: LogWriter<BrokerStage>
    let crypto: BrokerCrypto
    /// How the state was built at start (snapshot and replay).
    public let startReport: StateLoadReport
    /// The public key that signs this log's checkpoints now (for VerifyChain).
    let signingPublicKey: Data
    /// Qubits each user's exchanges may still ask for (in memory; see QubitBudget).
    let qubitBudget: QubitBudget
    /// Private keys of logged-in sessions (pqc), by session id hex: in memory only, dropped at logout.
    let sessionKeys = Mutex<[String: PQCPrivateKeyHandle]>([:])

    /// Opens (or creates) the data directory: the log, the master key and the state (snapshot plus tail).
    public init(configuration: BrokerConfiguration) throws {
        self.configuration = configuration
        try Self.prepareDataDirectory(configuration.dataDirectory)
        crypto = try BrokerCrypto(configuration: configuration)
        qubitBudget = QubitBudget(limit: configuration.qubitBudget, windowSeconds: configuration.qubitBudgetWindowSeconds)
        var logOptions = EventStore.Options()
        if let initialMapBytes = configuration.initialMapBytes { logOptions.initialMapSize = initialMapBytes }
        logOptions.clock = configuration.clock
        logOptions.tables = MessageTables.names
        logOptions.tablesLayout = MessageTables.layout
        store = try EventStore(directory: configuration.logDirectory, options: logOptions)
        let check: StartupCheck.Outcome
        do {
            // Opened first: its ownership and link checks come before anything reads it.
            let witness = try configuration.witnessPath.map { try WitnessWriter(path: $0, dataDirectory: configuration.dataDirectory) }
            check = try StartupCheck(store: store, configuration: configuration, witness: witness).run()
            signingPublicKey = check.signingKey.publicKey
            try StateLoader.catchUpTables(store: store)
            let state: BrokerState
            (state, startReport) = try StateLoader.load(store: store, rules: configuration.rules, key: crypto.masterKey)
            MemoryTrim.trim()  // decoding the snapshot's JSON was large and temporary
            let checkpointer = try Checkpointer(store: store, configuration: configuration, key: check.signingKey, witness: witness)
            stage = BrokerStage(
                store: store, state: state, configuration: configuration, crypto: crypto, checkpointer: checkpointer)
            // Checkpoints are also due by time: the writer asks for one now and then while idle.
            let tick = configuration.checkpointIntervalSeconds > 0
                ? Duration.seconds(min(configuration.checkpointIntervalSeconds, 5)) : nil
            writer = try LogWriter(store: store, stage: stage, tickInterval: tick, pipelined: configuration.pipelinedCommit)
        } catch {
            store.close()
            throw error
        }
        do {
            try recordStart(check)
        } catch {
            writer.stop()
            store.close()
            throw error
        }
    }

    /// Appends, before any call is taken, what this start must record: a replaced signing key, and the
    /// retirement of every key in force (docs/security.md, "Key reuse").
    private func recordStart(_ check: StartupCheck.Outcome) throws(BrokerError) {
        if let previous = check.replacedKeyID {
            try runBlocking(ReplaceSigningKeyCommand(
                previousKeyID: previous, publicKeyID: check.signingKey.publicKeyID, publicKey: check.signingKey.publicKey))
        }
        let accepted = !check.problems.isEmpty
        try runBlocking(RetireKeyMaterialCommand(
            cause: accepted ? "damaged-log-accepted" : "start", detail: check.problems.joined(separator: "; ")))
    }

    /// Queues `command` and blocks this thread until its batch is durable (start-up only).
    private func runBlocking<Command: BrokerCommand>(_ command: Command) throws(BrokerError) {
        // The writer runs on its own threads, so blocking this one (the start, before any call) cannot
        // starve it.
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Command.Output, BrokerError>?>(nil)
        let job = PendingCommand(command, caller: .local) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard writer.submit(job) else { throw .unavailable("the broker is shutting down") }
        done.wait()
        _ = try outcome.withLock { $0 ?? .failure(.unavailable("command was not decided")) }.get()
    }

    /// Creates the data directory (mode 0700) when it is missing; a path that is not a directory, or one
    /// this uid cannot create or write, is one line naming the path and the problem, not a Foundation
    /// error dump.
    static func prepareDataDirectory(_ path: String) throws(BrokerError) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw .unavailable("the data directory \(path) exists and is not a directory")
            }
            guard access(path, W_OK | X_OK) == 0 else {
                throw .unavailable("the data directory \(path) is not writable by uid \(geteuid()) (owner uid \(status.st_uid), "
                    + "mode \(String(status.st_mode & 0o7777, radix: 8)))")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            // Name the nearest existing ancestor and why it refused: that is what the operator must fix.
            var ancestor = (path as NSString).deletingLastPathComponent
            while !ancestor.isEmpty, ancestor != "/", stat(ancestor, &status) != 0 { ancestor = (ancestor as NSString).deletingLastPathComponent }
            let reason = status.st_mode & S_IFMT != S_IFDIR ? "\(ancestor) is not a directory"
                : access(ancestor, W_OK | X_OK) != 0 ? "\(ancestor) is not writable by uid \(geteuid())"
                : "\(error.localizedDescription)"
            throw .unavailable("cannot create the data directory \(path): \(reason)")
        }
    }

    /// Answers what is queued, appends a last checkpoint and a snapshot, and closes the log.
    public func close() async {
        await writer.stop()
        crypto.exchanges.stop()
        stage.changes.finish()
        store.close()
        sessionKeys.withLock { $0.removeAll() }
    }

    /// The projection state as of the last decided command.
    public var state: BrokerState { stage.state.withLock { $0 } }

    /// How busy the key-exchange threads are (for tests, benchmarks and metrics).
    public var exchangeStatistics: ExchangePoolStatistics { crypto.exchanges.statistics }

    /// The log, read-only use only (reads, verification).
    public var log: EventStore { store }

    /// Reads the state under the lock.
    func read<R>(_ body: (BrokerState) -> R) -> R {
        stage.state.withLock { body($0) }
    }

    /// Queues `command` for the writer and returns its outcome once its events are durable.
    func submit<Command: BrokerCommand>(_ command: Command, caller: Caller) async -> Result<Command.Output, BrokerError> {
        await withCheckedContinuation { continuation in
            let job = PendingCommand(command, caller: caller) { continuation.resume(returning: $0) }
            if !writer.submit(job) { job.finish(failure: .unavailable("the broker is shutting down")) }
        }
    }
}
