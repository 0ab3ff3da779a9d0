public import EventLog
import Foundation
import SwiftProtobuf
import Synchronization

/// Why the broker refused a command. Every case says what was wrong and, where it helps, what to do;
/// none carries a secret. Refusals the intrusion detection needs are recorded as events first.
public enum BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A parameter is malformed or out of bounds: which one and why.
    case invalidParameter(name: String, reason: String)
    case usernameTaken(String)
    case unknownUser(String)
    /// Wrong username or password (deliberately not saying which).
    case badCredentials
    case accountLocked(until: Int64)
    /// Too many sends: refused until `until`.
    case throttled(until: Int64)
    /// The caller's source (uid, later client address) is over a per-source limit on `what`
    /// ("registrations", "messages") set by the intrusion detection.
    case sourceThrottled(what: String, until: Int64)
    /// No session has this token.
    case noSession
    case sessionExpired
    case sessionRevoked
    /// The resource belongs to someone else.
    case notOwner(resource: String)
    case notAdmin
    case unknownMessage(String)
    /// A key exchange that did not produce a key: the reason from the BB84 report, the estimated QBER,
    /// its upper bound and the abort threshold.
    case keyExchangeAborted(reason: String, qber: Double, qberUpperBound: Double, threshold: Double)
    /// The user's key exchanges (their own and those their sends ran) asked for more qubits than the
    /// budget allows per user in the window; `until` is when enough of the window will have passed.
    case qubitBudgetExceeded(limit: Int, windowSeconds: Int64, until: Int64)
    /// The pair's key pool holds too few bytes; a key exchange tops it up.
    case keyPoolShort(needed: UInt64, available: UInt64)
    /// A stored message failed authentication: it was altered.
    case integrityFailure(messageID: String)
    /// The pqc private key is only in memory after a login with the password.
    case privateKeyUnavailable
    /// The sender asked for a pqc message sent before the sender copy existed: only its recipient's key opens it.
    case noSenderCopy(messageID: String)
    /// The password was right and the user has a second factor: call again with a code.
    case secondFactorRequired
    /// A second-factor call for a user without the factor on (or, to confirm, without an enrolment started).
    case secondFactorNotEnabled
    /// An enrolment, or its confirmation, while the factor is already on.
    case secondFactorAlreadyEnabled
    /// The log could not be written or read; nothing of the command was recorded.
    case storage(EventLogError)
    /// The broker is shutting down or failed to start.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidParameter(let name, let reason): "invalid \(name): \(reason)"
        case .usernameTaken(let name): "the username \(name) is taken"
        case .unknownUser(let name): "no user named \(name)"
        case .badCredentials: "wrong username or password"
        case .accountLocked(let until): "too many failed logins: try again after \(Self.time(until))"
        case .throttled(let until): "too many messages: sending is paused until \(Self.time(until))"
        case .sourceThrottled(let what, let until): "too many \(what) from this source: try again after \(Self.time(until))"
        case .noSession: "no session with this token: log in"
        case .sessionExpired: "the session expired: log in again"
        case .sessionRevoked: "the session ended (logout or password change): log in again"
        case .notOwner(let resource): "\(resource) belongs to another user"
        case .notAdmin: "this method is for administrators only"
        case .unknownMessage(let id): "no message \(id)"
        case .keyExchangeAborted(let reason, _, _, _): "key exchange aborted: \(reason)"
        case .qubitBudgetExceeded(let limit, let window, let until):
            "key exchanges may simulate \(limit) qubits per user in \(window) s: try again after \(Self.time(until))"
        case .keyPoolShort(let needed, let available):
            "the key pool holds \(available) bytes, \(needed) are needed: establish a key first"
        case .integrityFailure(let id):
            "message \(id.isEmpty ? "(unknown)" : id) failed authentication: it was altered after it was sent"
        case .noSenderCopy(let id):
            "message \(id) was sent in pqc before qsm kept a copy for its sender: only its recipient can read it"
        case .privateKeyUnavailable: "pqc messages can be read only in a session logged in with the password"
        case .secondFactorRequired: "this account has a second factor: give the code from the authenticator app"
        case .secondFactorNotEnabled: "no second factor is on for this account"
        case .secondFactorAlreadyEnabled: "the second factor is already on: turn it off first to enrol again"
        case .storage(let error): "storage error, nothing was recorded: \(error)"
        case .unavailable(let reason): "the broker is unavailable: \(reason)"
        }
    }

    static func time(_ micros: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }
}
