import Foundation
import Varlink

/// A Varlink error reply: its qualified name and parameters.
struct VarlinkCallError: Error, CustomStringConvertible {
    let name: String
    /// The user-facing line, worked out once (the parameters themselves are not Sendable).
    let description: String

    init(name: String, parameters: [String: Any]) {
        self.name = name
        description = VarlinkCallError.explain(name, parameters)
    }

    /// The daemon's parameter names as the command line speaks of them.
    static let cliWords: [String: String] = [
        "to": "the recipient", "peer": "the peer", "body": "the message", "mode": "--mode", "username": "the username",
        "password": "the password", "newPassword": "the new password", "messageId": "the message id", "limit": "--limit",
        "qubits": "--qubits", "noise": "--noise", "eavesdropper": "--eavesdrop", "basisBias": "--basis-bias",
        "projection": "--projection", "window": "--window", "from": "--from", "cursor": "--cursor", "code": "the code",
    ]

    /// Whether the daemon refused the call's input (exit status 64, as for the command line's own usage
    /// errors) rather than the state of things (1).
    static func isInputError(_ name: String) -> Bool {
        name.hasSuffix(".InvalidInput") || name.hasSuffix(".InvalidParameter")
    }

    /// One clear line for a user.
    static func explain(_ name: String, _ p: [String: Any]) -> String {
        let short = name.split(separator: ".").last.map(String.init) ?? name
        switch short {
        case "AuthenticationFailed": return "wrong username or password"
        case "SecondFactorRequired": return "this account has a second factor: give its code (qsm login asks, or --code)"
        case "SecondFactorNotEnabled": return "no second factor is on for this account (qsm mfa enable)"
        case "SecondFactorAlreadyEnabled": return "the second factor is already on (qsm mfa disable first to enrol again)"
        case "AccountLocked": return "account locked after repeated failed logins: try again in \(p["retryAfterSeconds"] ?? "?") s"
        case "InvalidSession": return "not logged in (\(p["reason"] ?? "no session")): run qsm login USER"
        case "UserExists": return "the username \(p["username"] ?? "") is taken"
        case "NoSuchUser": return "no user named \(p["username"] ?? "")"
        case "NoSuchMessage": return "no message \(p["messageId"] ?? "")"
        case "SenderCopyMissing":
            return "message \(p["messageId"] ?? "") was sent in pqc before qsm kept a copy for its sender: only its recipient can read it"
        case "AccessDenied": return "access denied: \(p["resource"] ?? "not yours") (recorded)"
        case "EavesdroppingDetected":
            return "key exchange aborted, possible eavesdropper: QBER \(p["qber"] ?? "?"), bound \(p["qberUpperBound"] ?? "?") over the threshold \(p["threshold"] ?? "?")"
        case "QubitBudgetExceeded":
            return "key exchange budget used up (\(p["limitQubits"] ?? "?") qubits per user in \(p["windowSeconds"] ?? "?") s): try again in \(p["retryAfterSeconds"] ?? "?") s"
        case "InsufficientKeyMaterial": return "not enough BB84 key: \(p["availableBytes"] ?? "?") bytes, \(p["neededBytes"] ?? "?") needed"
        case "InvalidInput":
            let field = p["field"] as? String ?? "input"
            return "\(cliWords[field] ?? field): \(p["reason"] ?? "")"
        case "Throttled": return "too many messages: sending resumes in \(p["retryAfterSeconds"] ?? "?") s"
        case "PermissionDenied": return "permission denied: administrators only"
        case "MethodNotFound": return "the daemon does not know \(p["method"] ?? "this method")"
        case "InterfaceNotFound": return "the daemon does not serve \(p["interface"] ?? "this interface")"
        case "InvalidParameter": return "invalid parameter \(p["parameter"] ?? "")"
        case "FrameTooLarge":
            return "too large: qsmd takes calls of at most \(p["limit"] ?? "?") bytes, and messages of at most its "
                + "maxMessageBytes (64 KiB unless configured; docs/qsmd.md)"
        default:
            let detail = p.isEmpty ? "" : " " + (String(data: (try? JSONSerialization.data(withJSONObject: p, options: [.sortedKeys])) ?? Data(), encoding: .utf8) ?? "")
            return "\(name)\(detail)"
        }
    }
}

/// Why talking to the daemon failed.
struct ConnectionError: Error, CustomStringConvertible {
    let description: String
}
