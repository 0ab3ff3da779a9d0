public import EventLog

/// What can go wrong in an offline forensic command, each with the exit status the CLI gives it
/// (sysexits.h values, documented in docs/forensics.md).
public enum ForensicsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A filter or argument that cannot be used: an unparseable time, an unknown type, --from > --to.
    case usage(String)
    /// The data directory or its log does not exist, or holds no log.
    case noInput(String)
    /// The log is there but damaged: not an LMDB file, a missing qsm database, an undecodable record.
    case data(String)
    /// The process may not read the log.
    case permission(String)
    /// Writing the output failed (a closed pipe, a full disk).
    case output(String)
    /// What was asked for is not in the log (e.g. `forensics message` with an unknown id).
    case notFound(String)

    /// The exit status for this error.
    public var exitStatus: Int32 {
        switch self {
        case .usage: 64  // EX_USAGE
        case .data: 65  // EX_DATAERR
        case .noInput: 66  // EX_NOINPUT
        case .output: 74  // EX_IOERR
        case .permission: 77  // EX_NOPERM
        case .notFound: 1
        }
    }

    public var description: String {
        switch self {
        case .usage(let text), .noInput(let text), .data(let text), .permission(let text), .notFound(let text): text
        case .output(let text): "cannot write the output: \(text)"
        }
    }

    /// Classifies an error of the log: a missing log is "no input", a damaged one "data".
    public init(_ error: EventLogError) {
        switch error {
        case .notFound:
            self = .noInput(error.description)
        case .notALog(_, let reason) where reason.hasPrefix("it has no data.mdb") || reason.hasPrefix("it is a file"):
            self = .noInput(error.description)
        case .permissionDenied:
            self = .permission(error.description)
        case .notALog, .newerFormat, .olderFormat, .anotherLog, .corruptRecord, .storage, .unavailable:
            self = .data(error.description)
        case .diskFull, .alreadyLocked, .readOnly, .closed, .invalidEvent, .conflict:
            // Not expected from a read-only open; reported as a damaged input rather than hidden.
            self = .data(error.description)
        }
    }
}
