public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// A pure fold over the log: no clock, no randomness, no I/O.
///
/// Live state, state after a restart (snapshot plus tail) and state rebuilt from position 1 must be
/// equal; `BrokerState.digests()` checks it by hashing each projection's canonical encoding, so every
/// dictionary in a projection is keyed by `String` (JSON sorts those keys) and nothing depends on
/// iteration order.
public protocol Projection: Codable, Sendable, Equatable {
    /// The name under which the projection is snapshotted and reported.
    static var name: String { get }
    /// Folds `event` into the state.
    mutating func evolve(_ event: QSMEvent)
}
