public import Foundation

/// Everything that can go wrong opening, appending to or reading an event log. Each description names
/// the path and says what to do.
public enum EventLogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The directory does not exist (read-only opens never create one).
    case notFound(path: String)
    /// The path exists but is not a qsm event log.
    case notALog(path: String, reason: String)
    /// The log was written by a newer qsm whose format this build does not understand.
    case newerFormat(path: String, found: UInt32, supported: UInt32)
    /// The process may not read or write the path.
    case permissionDenied(path: String, detail: String)
    /// The filesystem is full; nothing of the failed batch was written.
    case diskFull(path: String)
    /// Another process has the log open for writing.
    case alreadyLocked(path: String, holder: String)
    /// An append on a log opened read-only.
    case readOnly(path: String)
    /// The log was closed.
    case closed(path: String)
    /// An event to append breaks a limit; nothing was written.
    case invalidEvent(String)
    /// A stored record could not be decoded.
    case corruptRecord(reason: String)
    /// Any other storage failure, with LMDB's description.
    case storage(path: String, detail: String)
    /// Another writer appended first: the head is no longer the batch's base. Nothing was written;
    /// re-read the tail, rebuild the batch and retry.
    case conflict(path: String, expected: UInt64, found: UInt64)
    /// The log was written in an older format that this build does not migrate.
    case olderFormat(path: String, found: UInt32, supported: UInt32)
    /// The store holds another log than the one asked for (its log id differs).
    case anotherLog(path: String, expected: UUID, found: UUID)
    /// The database server cannot be reached, refused the credentials, or failed.
    case unavailable(path: String, detail: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "\(path): no such directory; check the path (qsmd creates the log, in DIR/log, on first start)"
        case .notALog(let path, let reason):
            return "\(path) is not a qsm event log (\(reason)); pass the data directory qsmd created, "
                + "or an empty or new directory to create one"
        case .newerFormat(let path, let found, let supported):
            return "\(path) holds a log of format \(found), newer than this build understands (\(supported)); "
                + "upgrade qsm to open it"
        case .permissionDenied(let path, let detail):
            return "\(path): permission denied (\(detail)); run as the user that owns it, or fix its permissions"
        case .diskFull(let path):
            return "\(path): no space left on the device; nothing was written. Free space and retry"
        case .alreadyLocked(let path, let holder):
            return "\(path) is already open for writing by \(holder); stop that qsmd first. To read the log "
                + "while it runs, use the offline tools: qsm log, qsm audit or qsm forensics with --data"
        case .readOnly(let path):
            return "\(path) was opened read-only; appends need the broker's read-write log"
        case .closed(let path):
            return "\(path): the log is closed"
        case .invalidEvent(let reason):
            return "invalid event: \(reason)"
        case .corruptRecord(let reason):
            return "corrupt record: \(reason); run `qsm audit verify` on the data directory"
        case .storage(let path, let detail):
            return "\(path): storage error: \(detail)"
        case .conflict(let path, let expected, let found):
            return "\(path): another writer appended first (the batch expected the head at \(expected), it is at "
                + "\(found)); nothing was written: re-read the tail and retry"
        case .olderFormat(let path, let found, let supported):
            return "\(path) holds a log of format \(found), older than this build's \(supported), and no migration "
                + "exists; copy it with the qsm that wrote it"
        case .anotherLog(let path, let expected, let found):
            return "\(path) holds another log (id \(found.uuidString.lowercased()), not "
                + "\(expected.uuidString.lowercased())); point at the right database or an empty one"
        case .unavailable(let path, let detail):
            return "\(path): \(detail)"
        }
    }
}
