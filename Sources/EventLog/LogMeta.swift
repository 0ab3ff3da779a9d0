public import Foundation

/// What the `meta` database says about a log.
public struct LogMeta: Sendable, Hashable {
    /// The on-disk format this build writes and reads.
    public static let currentFormatVersion: UInt32 = 1
    static let magic = "qsm-event-log"

    public let formatVersion: UInt32
    /// Names this log for its whole life: copies keep it, a new log gets a new one.
    public let logID: UUID
    /// Microseconds since the Unix epoch when the log was created.
    public let createdAtMicros: Int64

    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdAtMicros) / 1_000_000) }
}

/// The last position of a log and the chain hash there (h(0) = 32 zero bytes for an empty log).
public struct LogHead: Sendable, Hashable {
    public let position: UInt64
    public let hash: Data
    /// Recorded time of the last event, or 0 when the log is empty.
    public let lastRecordedAtMicros: Int64

    static let empty = LogHead(position: 0, hash: HashChain.genesis, lastRecordedAtMicros: 0)
}
