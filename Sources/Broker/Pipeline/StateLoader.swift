import EventLog
import Foundation
import Logging
import QSMEvents
import SwiftProtobuf
import QSMCrypto
import Synchronization

/// How the broker's state was built at start: from which snapshot, how many events replayed after it, and
/// why a stored snapshot was refused, if one was.
public struct StateLoadReport: Sendable, Equatable {
    /// The position of the snapshot the state started from; nil when it was replayed from position 1.
    public let snapshotPosition: UInt64?
    /// Events folded after the snapshot (or from position 1).
    public let replayedEvents: UInt64
    /// Why the stored snapshot was not used (nil: it was, or there was none).
    public let snapshotRefusal: String?
}

/// Builds the broker's state from the log: the latest snapshot plus the events after it, or every event
/// from position 1.
enum StateLoader {
    /// The name of the broker's snapshot in the log's snapshot database.
    static let snapshotName = "broker"

    /// The state as of the log's head, from the snapshot if one is usable: sealed under the master key
    /// for this log and position (``SnapshotSeal``), not past the head, decodable, of the position it is
    /// stored under. Any other is refused, with a warning saying why, and the state is replayed from
    /// position 1 instead; the report says which happened.
    static func load(store: EventStore, rules: IDSRules, key: MasterKey) throws -> (BrokerState, StateLoadReport) {
        var state = BrokerState(rules: rules)
        let head = try store.head().position
        var refusal: String?
        if let snapshot = try store.loadSnapshot(named: snapshotName) {
            switch usable(snapshot, head: head, store: store, rules: rules, key: key) {
            case .success(let restored): state = restored
            case .failure(let reason):
                refusal = reason.description
                Logger(label: "qsm.broker").warning(
                    "Not using the broker snapshot; replaying the log from position 1",
                    metadata: ["position": "\(snapshot.position)", "reason": "\(reason)"])
            }
        }
        let from = state.position
        try replay(store: store, into: &state, through: head)
        return (state, StateLoadReport(
            snapshotPosition: from > 0 ? from : nil, replayedEvents: head - from, snapshotRefusal: refusal))
    }

    /// The state a stored snapshot holds, or why it cannot be used.
    private static func usable(
        _ snapshot: Snapshot, head: UInt64, store: EventStore, rules: IDSRules, key: MasterKey
    ) -> Result<BrokerState, Refusal> {
        guard snapshot.position <= head else {
            return .failure(Refusal("it describes position \(snapshot.position), past the log's head \(head)"))
        }
        let data: Data
        switch SnapshotSeal.open(snapshot.state, logID: store.meta.logID, position: snapshot.position, key: key) {
        case .success(let opened): data = opened
        case .failure(let refusal): return .failure(Refusal("\(refusal)"))
        }
        let restored: BrokerState?
        do { restored = try BrokerState(snapshot: data, rules: rules) } catch {
            return .failure(Refusal("it does not decode: \(error)"))
        }
        guard let restored else { return .failure(Refusal("it is of an older format")) }
        guard restored.position == snapshot.position else {
            return .failure(Refusal("it holds the state of position \(restored.position) but is stored as of \(snapshot.position)"))
        }
        return .success(restored)
    }

    /// Why a stored snapshot was not used.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Brings the message tables to the log's head: the rows of every event they do not reflect yet (all of
    /// them for a log written before the tables, or by `EventStore.append`). Before the writer starts.
    static func catchUpTables(store: EventStore) throws {
        let head = try store.head().position
        let done = try store.tablesPosition()
        guard done != head else { return }
        // Past the head cannot happen (rows commit with their events); if it did, start again.
        let from = done < head ? done + 1 : 1
        Logger(label: "qsm.broker").notice(
            "Writing the message tables from the log", metadata: ["from": "\(from)", "through": "\(head)"])
        try store.rebuildTables(from: from, through: head) { stored, tables in
            try MessageTables.rows(for: try QSMEvent(stored), tables: tables)
        }
    }

    /// Folds the events after `state.position` up to `last` into `state`.
    static func replay(store: EventStore, into state: inout BrokerState, through last: UInt64) throws {
        try fold(store: store, after: state.position, through: last) { event in
            // Only a MessageDecrypted reads the tables (for its message's mode); they are at the head.
            guard case .messageDecrypted = event.body else {
                state.evolve(event)
                return
            }
            state.evolve(event, decryptedMode: try store.readTables { try MessageTables.decryptedMode(of: event, in: $0) })
        }
        // Derived alerts are appended with their trigger; replay meets them and leaves none pending.
        _ = state.ids.takePending()
    }

    /// Calls `body` with each event after position `after` up to `last`, decoded, in order; the first
    /// error stops the fold and is thrown.
    static func fold(store: EventStore, after: UInt64, through last: UInt64, _ body: (QSMEvent) throws -> Void) throws {
        guard after < last else { return }
        var failure: (any Error)?
        try store.forEach(from: after + 1) { stored in
            guard stored.position <= last else { return false }
            do {
                try body(try QSMEvent(stored))
            } catch {
                failure = error
                return false
            }
            return true
        }
        if let failure { throw failure }
    }
}
