import Crypto
public import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// The broker's projections in memory, folded together event by event: what deciders need. The inbox,
/// the message index and history are tables on disk (MessageTables).
public struct BrokerState: Sendable, Equatable {
    public var users = UsersProjection()
    public var sessions = SessionsProjection()
    public var keyPools = KeyPoolsProjection()
    public var ids: IDSProjection
    public var dashboard = DashboardProjection()
    /// The last position folded in.
    public internal(set) var position: UInt64 = 0
    /// The last event time folded in, in microseconds.
    public internal(set) var lastRecordedAt: Int64 = 0

    /// The names of the projections in memory, as `digests()` and snapshots use them.
    public static let projectionNames = [
        UsersProjection.name, SessionsProjection.name, KeyPoolsProjection.name, IDSProjection.name,
        DashboardProjection.name,
    ]

    /// Empty state that detects intrusions with `rules`.
    public init(rules: IDSRules = IDSRules()) {
        ids = IDSProjection(rules: rules)
    }

    /// Takes the projection `name` from `other`, which must be at the same position (a rebuild that
    /// swaps one projection only). Projections fold the same events independently, so any mix of them
    /// at one position is a consistent state.
    public mutating func adopt(_ name: String, from other: BrokerState) {
        precondition(other.position == position, "adopting a projection from another position")
        switch name {
        case UsersProjection.name: users = other.users
        case SessionsProjection.name: sessions = other.sessions
        case KeyPoolsProjection.name: keyPools = other.keyPools
        case IDSProjection.name: ids = other.ids
        case DashboardProjection.name: dashboard = other.dashboard
        default: preconditionFailure("no projection named \(name)")
        }
    }

    /// Folds `event` into every projection. Events must come in position order. `decryptedMode` is the
    /// mode of the message a MessageDecrypted event read, from the message index
    /// (`MessageTables.decryptedMode`), for the dashboard's counts.
    public mutating func evolve(_ event: QSMEvent, decryptedMode: String? = nil) {
        users.evolve(event)
        sessions.evolve(event)
        keyPools.evolve(event)
        ids.evolve(event)
        dashboard.evolve(event, decryptedMode: decryptedMode, consumedBits: keyPools.lastConsumedBits)
        position = event.position
        lastRecordedAt = event.recordedAtUs
    }

    /// SHA-256 of each projection's canonical encoding (JSON, keys sorted), in hex, by projection name.
    public func digests() throws -> [String: String] {
        var result: [String: String] = [:]
        for (name, data) in try encodedProjections() {
            result[name] = Data(SHA256.hash(data: data)).hex
        }
        return result
    }

    /// Each projection's canonical encoding by name.
    public func encodedProjections() throws -> [(String, Data)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [
            (UsersProjection.name, try encoder.encode(users)),
            (SessionsProjection.name, try encoder.encode(sessions)),
            (KeyPoolsProjection.name, try encoder.encode(keyPools)),
            (IDSProjection.name, try encoder.encode(ids)),
            (DashboardProjection.name, try encoder.encode(dashboard)),
        ]
    }

    /// The whole state as one snapshot payload: a stream of protobuf records (SnapshotStream).
    public func snapshotData() throws -> Data {
        try SnapshotStream.encode(self)
    }

    /// State from a snapshot payload, with `rules` for intrusion detection. Nil when the payload is of
    /// another version (the caller then replays from position 1).
    public init?(snapshot data: Data, rules: IDSRules) throws {
        guard let state = try SnapshotStream.decode(data, rules: rules) else { return nil }
        self = state
    }
}
