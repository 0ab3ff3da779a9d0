import EventLog
import Foundation
public import QSMEvents
import SwiftProtobuf
import Synchronization

/// What Rebuild found: the digests of the live and the rebuilt projections at the same position.
public struct RebuildReport: Sendable, Equatable {
    public let position: UInt64
    public let live: [String: String]
    public let rebuilt: [String: String]
    public let eventsReplayed: UInt64
    /// How long replaying `eventsReplayed` events from position 1 took (digests not included).
    public let seconds: Double
    /// Whether the rebuilt state replaced the live one.
    public let swapped: Bool
    /// Projections whose digests differ.
    public var differences: [String] { live.keys.filter { live[$0] != rebuilt[$0] }.sorted() }
}

/// Broker figures for administrators.
public struct BrokerStats: Sendable, Equatable {
    public let head: UInt64
    public let logBytes: Int
    public let mapBytes: Int
    public let commits: UInt64
    public let eventsAppended: UInt64
    public let batches: UInt64
    public let commands: UInt64
    public let users: Int
    public let messages: Int
}

extension Broker {
    private func admin<Output: Sendable>(_ caller: Caller, _ method: String, _ body: @escaping @Sendable (BrokerState) -> Output)
        async throws(BrokerError) -> Output
    {
        try await submit(AdminQuery(method: method, read: body), caller: caller).get()
    }

    /// Records the refusal of `method` for a caller who is not an administrator and throws `notAdmin`; for
    /// an administrator it does nothing. For interfaces that check permission before their parameters.
    public func refuseNonAdmin(method: String, caller: Caller) async throws(BrokerError) {
        guard !caller.isAdmin else { return }
        try await admin(caller, method) { _ in () }
    }

    /// Recorded alerts, newest first.
    /// `method` names the call in the AccessDenied event of a refusal (WatchAlerts starts with this one).
    public func alerts(limit: Int? = nil, caller: Caller, method: String = "Alerts") async throws(BrokerError) -> [IDSProjection.Alert] {
        let limit = try Validation.limit(limit, default: 100)
        return try await admin(caller, method) { Array($0.ids.alerts.suffix(limit).reversed()) }
    }

    /// The number of events a ReadEvents call asks for: 100 when absent, else 1-10,000.
    public static func readLimit(_ limit: Int?) throws(BrokerError) -> Int {
        try Validation.limit(limit, default: 100)
    }

    /// Events from position `from`, decoded.
    public func readEvents(from: UInt64, limit: Int? = nil, caller: Caller) async throws(BrokerError) -> [QSMEvent] {
        let limit = try Self.readLimit(limit)
        try await admin(caller, "ReadEvents") { _ in () }
        do {
            return try store.read(from: max(from, 1), limit: limit).map { try QSMEvent($0) }
        } catch let error as EventLogError {
            throw .storage(error)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// Verifies the log as `qsm audit verify` does: the whole hash chain, every checkpoint's signature
    /// under the broker's signing key and the chain hash it signed, and the witness file when there is one.
    /// A log rewritten and re-hashed end to end passes the chain alone; its checkpoints do not verify.
    public func verifyChain(caller: Caller) async throws(BrokerError) -> AuditVerifier.Report {
        try await admin(caller, "VerifyChain") { _ in () }
        var witness: [WitnessRecord] = []
        if let path = configuration.witnessPath, FileManager.default.fileExists(atPath: path) {
            do { witness = try WitnessRecord.read(path: path) } catch {
                throw .unavailable("the witness file cannot be read: \(error.reason)")
            }
        }
        do { return try await AuditVerifier(store: store, publicKey: signingPublicKey, witness: witness).verify() } catch {
            throw .storage(error)
        }
    }

    /// Replays the log from position 1 into fresh projections beside the live ones (the message tables
    /// into an image in memory) and compares their digests at the same position; with `swap`, the rebuilt
    /// state and tables replace the live ones.
    public func rebuild(swap: Bool = false, projection: String? = nil, caller: Caller) async throws(BrokerError) -> RebuildReport {
        if let projection, !Self.projectionNames.contains(projection) {
            throw .invalidParameter(name: "projection", reason: "no projection named \(projection)")
        }
        try await admin(caller, "Rebuild") { _ in () }
        let clock = ContinuousClock()
        let start = clock.now
        var fresh = Rebuilt(state: BrokerState(rules: configuration.rules))
        let target = read { $0.position }
        do {
            try await fresh.replay(store: store, through: target)
        } catch let error as EventLogError {
            throw .storage(error)
        } catch {
            throw .unavailable("rebuild failed: \(error)")
        }
        let replayed = fresh.state.position
        // The replay's own time: the digests computed below are for comparing, not part of rebuilding.
        let replaySeconds = (clock.now - start).seconds
        do {
            while true {
                // The live state at a durable position (a query answers once its batch has committed) and
                // the tables on disk at the same one; commands in between move both on, and the loop
                // catches up.
                let live = try await admin(caller, "Rebuild") { $0 }
                try await fresh.replay(store: store, through: live.position)
                guard let liveTables = try tableDigests(at: live.position) else { continue }
                let liveDigests = try live.digests().merging(liveTables) { $1 }
                let rebuiltDigests = try fresh.digests()
                let differs = projection.map { liveDigests[$0] != rebuiltDigests[$0] } ?? (liveDigests != rebuiltDigests)
                let report = RebuildReport(
                    position: live.position, live: liveDigests, rebuilt: rebuiltDigests, eventsReplayed: replayed,
                    seconds: replaySeconds, swapped: swap && differs)
                MemoryTrim.trim()
                guard report.swapped else { return report }
                if try await swapIn(fresh, projection: projection, at: live.position, caller: caller) { return report }
            }
        } catch let error as BrokerError {
            throw error
        } catch let error as EventLogError {
            throw .storage(error)
        } catch {
            throw .unavailable("rebuild failed: \(error)")
        }
    }

    /// Every projection's digest, live: those in memory and those of the message tables on disk, as of
    /// one position (waits, by asking again, while commands move them apart).
    public func digests() throws -> [String: String] {
        while true {
            let state = read { $0 }
            if let tables = try tableDigests(at: state.position) { return try state.digests().merging(tables) { $1 } }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }

    /// Every projection's name: those in memory and those in tables.
    static let projectionNames = BrokerState.projectionNames + MessageTables.projections.map(\.name)

    /// The digests of the message tables on disk, when they are at `position` (nil: they moved on).
    private func tableDigests(at position: UInt64) throws -> [String: String]? {
        var digests: [String: String] = [:]
        for (name, tables) in MessageTables.projections {
            let (at, digest) = try store.tableDigest(tables)
            guard at == position else { return nil }
            digests[name] = digest
        }
        return digests
    }

    /// Puts the rebuilt projection (or all) in place of the live one, if nothing moved since `position`.
    private func swapIn(_ rebuilt: Rebuilt, projection: String?, at position: UInt64, caller: Caller) async throws -> Bool {
        let tables = MessageTables.projections.filter { projection == nil || $0.name == projection }.flatMap(\.tables)
        if !tables.isEmpty {
            let replaced = try await submit(
                ReplaceTablesCommand(position: position, names: tables, image: rebuilt.tables), caller: caller).get()
            guard replaced else { return false }
        }
        if let projection, !BrokerState.projectionNames.contains(projection) { return true }
        let state = rebuilt.state
        return stage.state.withLock { live -> Bool in
            guard live.position == position else { return false }
            if let projection { live.adopt(projection, from: state) } else { live = state }
            return true
        }
    }

    /// Log and pipeline figures.
    public func stats(caller: Caller) async throws(BrokerError) -> BrokerStats {
        let users = try await admin(caller, "Stats") { $0.users.users.count }
        do {
            let messages = try store.tableCount(MessageTables.messageIndex)
            let storage = try store.storageStats()
            let writer = store.writerStatistics
            return BrokerStats(
                head: try store.head().position, logBytes: storage.fileSize, mapBytes: storage.mapSize,
                commits: writer?.commits ?? 0, eventsAppended: writer?.events ?? 0, batches: writer?.commits ?? 0,
                commands: writer?.appends ?? 0, users: users, messages: messages)
        } catch let error as EventLogError {
            throw .storage(error)
        } catch {
            throw .unavailable("\(error)")
        }
    }
}

extension Duration {
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}

/// An administrator's read of the state: refused (and recorded) for anyone else.
struct AdminQuery<Output: Sendable>: BrokerCommand {
    /// The method named in the AccessDenied event of a refusal.
    let method: String
    let read: @Sendable (BrokerState) -> Output

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<Output, BrokerError> {
        guard decision.caller.isAdmin else { return .failure(decision.denyAdmin(method: method, state: state)) }
        return .success(read(state))
    }
}

/// A rebuild's swap of message tables: the image replaces them in this command's batch, if the state is
/// still at the position the image was folded to (false otherwise: the rebuild catches up and tries again).
struct ReplaceTablesCommand: BrokerCommand {
    let position: UInt64
    let names: [String]
    let image: TableImage

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<Bool, BrokerError> {
        guard decision.caller.isAdmin else { return .failure(decision.denyAdmin(method: "Rebuild", state: state)) }
        guard state.position == position else { return .success(false) }
        decision.replaceTables(names, with: image)
        return .success(true)
    }
}

/// A state and message tables folded from the log, beside the live ones.
struct Rebuilt {
    var state: BrokerState
    var tables = TableImage()

    /// Folds the events after the state's position up to `last`, on threads of its own
    /// (``ParallelReplay``).
    mutating func replay(store: EventStore, through last: UInt64) async throws {
        guard state.position < last else { return }
        (state, tables) = try await ParallelReplay(state: state, tables: tables).run(store: store, through: last)
        _ = state.ids.takePending()
    }

    /// The state's digests and the tables'.
    func digests() throws -> [String: String] {
        var digests = try state.digests()
        for (name, names) in MessageTables.projections { digests[name] = tables.digest(of: names) }
        return digests
    }
}
