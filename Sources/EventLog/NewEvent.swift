public import Foundation

/// The Unix peer (SO_PEERCRED) whose call caused an event.
public struct PeerCredentials: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32

    /// - Parameters: uid, gid and pid as the kernel reported them for the connection.
    public init(uid: UInt32, gid: UInt32, pid: Int32) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }
}

/// An event to append: the header fields the caller decides and the encoded body.
///
/// The log assigns position and time. `body` is the protobuf encoding of the event message whose field
/// number in `qsm.events.v1.Event` is `type`; the log does not interpret it.
public struct NewEvent: Sendable, Hashable {
    /// Smallest type id: field numbers 1-15 belong to the record header.
    public static let firstTypeID: UInt32 = 16
    /// Largest protobuf field number.
    public static let lastTypeID: UInt32 = 536_870_911
    /// Longest actor name in UTF-8 bytes (LMDB keys are at most 511 bytes).
    public static let maxActorBytes = 255
    /// Longest correlation id in bytes.
    public static let maxCorrelationBytes = 64

    public var type: UInt32
    public var schemaVersion: UInt32
    public var actor: String
    public var correlationID: Data
    public var peer: PeerCredentials?
    public var body: Data

    /// - Parameters:
    ///   - type: the event's stable type id (16 and up).
    ///   - schemaVersion: version of the body's schema.
    ///   - actor: the user the event is by or about; empty for system events. Indexed.
    ///   - correlationID: ties together the events of one command; may be empty.
    ///   - peer: the socket peer that caused the event, if any.
    ///   - body: the encoded event message.
    public init(
        type: UInt32, schemaVersion: UInt32 = 1, actor: String = "", correlationID: Data = Data(),
        peer: PeerCredentials? = nil, body: Data
    ) {
        self.type = type
        self.schemaVersion = schemaVersion
        self.actor = actor
        self.correlationID = correlationID
        self.peer = peer
        self.body = body
    }

    /// Checks the limits the log enforces, before the event can join a batch.
    public func validate() throws(EventLogError) {
        guard type >= Self.firstTypeID, type <= Self.lastTypeID else {
            throw .invalidEvent("type id \(type) is outside \(Self.firstTypeID)...\(Self.lastTypeID)")
        }
        guard actor.utf8.count <= Self.maxActorBytes else {
            throw .invalidEvent("actor is \(actor.utf8.count) bytes; at most \(Self.maxActorBytes) allowed")
        }
        guard correlationID.count <= Self.maxCorrelationBytes else {
            throw .invalidEvent(
                "correlation id is \(correlationID.count) bytes; at most \(Self.maxCorrelationBytes) allowed")
        }
    }
}

/// An event as stored: its position and the exact record bytes the chain hashes.
public struct StoredEvent: Sendable, Hashable {
    public let position: UInt64
    /// The record: a protobuf `qsm.events.v1.Event` (header fields, then the body).
    public let record: Data

    /// - Parameters: position in the log and the record bytes read from it.
    public init(position: UInt64, record: Data) {
        self.position = position
        self.record = record
    }

    /// Decodes the header fields (position, time, type, version, actor, correlation id, peer).
    public func header() throws -> RecordHeader {
        try RecordHeader(record: record)
    }
}
