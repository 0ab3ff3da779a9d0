import EventLog
import Foundation
import Logging
import QSMEvents
import SwiftProtobuf
import QSMCrypto
import Synchronization

/// Builds the broker's state from the log: the latest snapshot plus the events after it, or every event
/// from position 1.
enum StateLoader {
    /// The name of the broker's snapshot in the log's snapshot database.
    static let snapshotName = "broker"

    /// The state as of the log's head, from the snapshot if one is usable: sealed under the master key
    /// for this log and position (``SnapshotSeal``). Any other is refused, with a warning, and the state
    /// is replayed from position 1 instead.
    static func load(store: EventStore, rules: IDSRules, key: MasterKey) throws -> BrokerState {
        var state = BrokerState(rules: rules)
        let head = try store.head().position
        if let snapshot = try store.loadSnapshot(named: snapshotName), snapshot.position <= head {
            switch SnapshotSeal.open(snapshot.state, logID: store.meta.logID, position: snapshot.position, key: key) {
            case .success(let data):
                if let restored = try? BrokerState(snapshot: data, rules: rules), restored.position == snapshot.position {
                    state = restored
                }
            case .failure(let refusal):
                Logger(label: "qsm.broker").warning(
                    "Not using the broker snapshot; replaying the log from position 1",
                    metadata: ["position": "\(snapshot.position)", "reason": "\(refusal)"])
            }
        }
        try replay(store: store, into: &state, through: head)
        return state
    }

    /// Folds the events after `state.position` up to `last` into `state`.
    static func replay(store: EventStore, into state: inout BrokerState, through last: UInt64) throws {
        guard state.position < last else { return }
        var failure: (any Error)?
        try store.forEach(from: state.position + 1) { stored in
            guard stored.position <= last else { return false }
            do {
                state.evolve(try QSMEvent(stored))
            } catch {
                failure = error
                return false
            }
            return true
        }
        if let failure { throw failure }
        // Derived alerts are appended with their trigger; replay meets them and leaves none pending.
        _ = state.ids.takePending()
    }
}
