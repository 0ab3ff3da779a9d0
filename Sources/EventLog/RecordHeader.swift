public import Foundation
import SwiftProtobuf

/// The header fields of a stored record, decoded.
public struct RecordHeader: Sendable, Hashable {
    public var position: UInt64
    /// Microseconds since the Unix epoch, from the broker's clock at append time.
    public var recordedAtMicros: Int64
    public var type: UInt32
    public var schemaVersion: UInt32
    public var actor: String
    public var correlationID: Data
    public var peer: PeerCredentials?

    /// Decodes the header of `record`; the body is skipped.
    public init(record: Data) throws {
        let message: LogRecordHeader
        do {
            var options = BinaryDecodingOptions()
            options.discardUnknownFields = true
            message = try LogRecordHeader(serializedBytes: record, options: options)
        } catch {
            throw EventLogError.corruptRecord(reason: "record header does not decode: \(error)")
        }
        position = message.position
        recordedAtMicros = message.recordedAtUs
        type = message.type
        schemaVersion = message.schemaVersion
        actor = message.actor
        correlationID = message.correlationID
        peer = message.hasPeer ? PeerCredentials(uid: message.peer.uid, gid: message.peer.gid, pid: message.peer.pid) : nil
    }

    /// The time the event was recorded.
    public var recordedAt: Date { Date(timeIntervalSince1970: Double(recordedAtMicros) / 1_000_000) }
}

/// Encodes records: the header as `LogRecordHeader`, then the body as the field numbered by its type.
enum RecordEncoder {
    static func encode(_ event: NewEvent, position: UInt64, recordedAtMicros: Int64) throws -> Data {
        var header = LogRecordHeader()
        header.position = position
        header.recordedAtUs = recordedAtMicros
        header.type = event.type
        header.schemaVersion = event.schemaVersion
        header.actor = event.actor
        header.correlationID = event.correlationID
        if let peer = event.peer {
            header.peer = LogPeer.with {
                $0.uid = peer.uid
                $0.gid = peer.gid
                $0.pid = peer.pid
            }
        }
        var record: Data = try header.serializedBytes()
        record.reserveCapacity(record.count + event.body.count + 10)
        // The body is a length-delimited field (wire type 2) whose number is the type id.
        appendVarint(UInt64(event.type) << 3 | 2, to: &record)
        appendVarint(UInt64(event.body.count), to: &record)
        record.append(event.body)
        return record
    }

    private static func appendVarint(_ value: UInt64, to data: inout Data) {
        var v = value
        while v >= 0x80 {
            data.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        data.append(UInt8(v))
    }
}
