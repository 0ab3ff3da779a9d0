public import Foundation

/// What the `meta` database says about a log.
public struct LogMeta: Sendable, Hashable {
    /// The on-disk format this build writes and reads.
    public static let currentFormatVersion: UInt32 = 1
    /// What every store writes into its meta, so a foreign database or file is told apart.
    public static let magic = "qsm-event-log"

    public let formatVersion: UInt32
    /// Names this log for its whole life: copies keep it, a new log gets a new one.
    public let logID: UUID
    /// Microseconds since the Unix epoch when the log was created.
    public let createdAtMicros: Int64

    /// - Parameters: the format version, the log's id and its creation time (for a store other than LMDB's).
    public init(formatVersion: UInt32, logID: UUID, createdAtMicros: Int64) {
        self.formatVersion = formatVersion
        self.logID = logID
        self.createdAtMicros = createdAtMicros
    }

    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdAtMicros) / 1_000_000) }
}

/// The last position of a log and the chain hash there (h(0) = 32 zero bytes for an empty log).
public struct LogHead: Sendable, Hashable {
    public let position: UInt64
    public let hash: Data
    /// Recorded time of the last event, or 0 when the log is empty.
    public let lastRecordedAtMicros: Int64

    /// - Parameters: the last position, h(position), and the last event's recorded time.
    public init(position: UInt64, hash: Data, lastRecordedAtMicros: Int64) {
        self.position = position
        self.hash = hash
        self.lastRecordedAtMicros = lastRecordedAtMicros
    }

    /// The head of an empty log: position 0, h(0).
    public static let empty = LogHead(position: 0, hash: HashChain.genesis, lastRecordedAtMicros: 0)
}
