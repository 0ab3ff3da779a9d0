internal import CLMDB
public import Foundation

/// A projection's saved state and the last position it reflects.
public struct Snapshot: Sendable, Hashable {
    /// The last log position folded into `state`.
    public let position: UInt64
    /// The projection's encoded state; its format belongs to the projection.
    public let state: Data

    /// A snapshot of `state` as of `position`.
    public init(position: UInt64, state: Data) {
        self.position = position
        self.state = state
    }
}

extension EventStore {
    /// Saves `snapshot` under `name`, replacing the previous one, in its own durable transaction.
    ///
    /// Snapshots are a cache beside the log: losing one costs a longer replay, never an event. A
    /// snapshot past the head is refused, because it would describe events that do not exist.
    public func saveSnapshot(_ snapshot: Snapshot, named name: String) throws(EventLogError) {
        guard mode == .readWrite else { throw .readOnly(path: path) }
        let key = try Self.snapshotKey(name)
        let head = try head()
        guard snapshot.position <= head.position else {
            throw .invalidEvent("snapshot at \(snapshot.position) is past the head \(head.position)")
        }
        let value = Self.snapshotValue(snapshot)
        let dbi = databases.snapshots
        do {
            try environment.writeGrowingMap { txn in
                try key.withUnsafeBytes { key in
                    try value.withUnsafeBytes { try txn.put(dbi, key: key, value: $0) }
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    static func snapshotKey(_ name: String) throws(EventLogError) -> [UInt8] {
        guard !name.isEmpty, name.utf8.count <= 255 else { throw .invalidEvent("snapshot name must be 1-255 bytes") }
        return Array(name.utf8)
    }

    /// The stored form: the position (be64), then the state.
    static func snapshotValue(_ snapshot: Snapshot) -> Data {
        var value = Data(capacity: 8 + snapshot.state.count)
        withUnsafeBytes(of: snapshot.position.bigEndian) { value.append(contentsOf: $0) }
        value.append(snapshot.state)
        return value
    }

    /// The snapshot saved under `name`, or nil when there is none.
    public func loadSnapshot(named name: String) throws(EventLogError) -> Snapshot? {
        let dbi = databases.snapshots
        do {
            return try environment.read { txn -> Snapshot? in
                guard let bytes = try Array(name.utf8).withUnsafeBytes({ try txn.get(dbi, key: $0) }) else { return nil }
                guard bytes.count >= 8 else { throw EventLogError.corruptRecord(reason: "snapshot \(name) is truncated") }
                let position = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                return Snapshot(position: position, state: Data(bytes.dropFirst(8)))
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }
}
