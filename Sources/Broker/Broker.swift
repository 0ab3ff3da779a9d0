public import EventLog
import Foundation
import QSMEvents
import Synchronization
import SwiftProtobuf

/// The qsm broker, in-process: commands are decided against projection state and their events appended
/// to the log in group commits; queries answer from the same state.
///
/// Expensive, stateless work (password hashing, BB84 runs, public-key sealing and opening) happens in the
/// caller's task before its command joins the pipeline, so many run at once; the decider then checks
/// that what that work assumed still holds.
public final class Broker: Sendable {
    public let configuration: BrokerConfiguration
    let store: EventStore
    let pipeline: CommandPipeline
    let crypto: BrokerCrypto
    /// Private keys of logged-in sessions (pqc), by session id hex: in memory only, dropped at logout.
    let sessionKeys = Mutex<[String: PQCPrivateKeyHandle]>([:])

    /// Opens (or creates) the data directory: the log, the master key and the state (snapshot plus tail).
    public init(configuration: BrokerConfiguration) throws {
        self.configuration = configuration
        try FileManager.default.createDirectory(
            atPath: configuration.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        crypto = try BrokerCrypto(configuration: configuration)
        var logOptions = EventStore.Options()
        if let initialMapBytes = configuration.initialMapBytes { logOptions.initialMapSize = initialMapBytes }
        store = try EventStore(directory: configuration.logDirectory, options: logOptions)
        do {
            let state = try StateLoader.load(store: store, rules: configuration.rules)
            MemoryTrim.trim()  // decoding the snapshot's JSON was large and temporary
            let checkpointer = try Checkpointer(store: store, configuration: configuration)
            pipeline = CommandPipeline(store: store, state: state, configuration: configuration, checkpointer: checkpointer)
        } catch {
            store.close()
            throw error
        }
    }

    /// Answers what is queued, saves a snapshot, and closes the log.
    public func close() async {
        await pipeline.stop()
        store.close()
        sessionKeys.withLock { $0.removeAll() }
    }

    /// The projection state as of the last decided command.
    public var state: BrokerState { pipeline.state.withLock { $0 } }

    /// The log, read-only use only (reads, verification).
    public var log: EventStore { store }

    /// Reads the state under the lock.
    func read<R>(_ body: (BrokerState) -> R) -> R {
        pipeline.state.withLock { body($0) }
    }
}
