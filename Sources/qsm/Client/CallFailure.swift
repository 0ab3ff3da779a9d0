import Foundation
import QSMClient

/// One line for a user from a failed call to qsmd, and the exit status it earns.
enum CallFailure {
    /// The daemon's parameter names as the command line speaks of them.
    static let cliWords: [String: String] = [
        "to": "the recipient", "peer": "the peer", "body": "the message", "mode": "--mode", "username": "the username",
        "password": "the password", "newPassword": "the new password", "messageId": "the message id", "limit": "--limit",
        "qubits": "--qubits", "noise": "--noise", "eavesdropper": "--eavesdrop", "basisBias": "--basis-bias",
        "projection": "--projection", "window": "--window", "from": "--from", "cursor": "--cursor", "code": "the code",
    ]

    /// Whether the daemon refused the call's input (exit status 64, as for the command line's own usage
    /// errors) rather than the state of things (1).
    static func isInputError(_ error: QSMClientError) -> Bool {
        switch error {
        case .broker(.invalidInput): true
        case .reply(let name, _): name.hasSuffix(".InvalidParameter")
        default: false
        }
    }

    /// Whether qsmd ended the session the call named (expiry, logout, password change).
    static func endsSession(_ error: QSMClientError) -> Bool {
        if case .broker(.invalidSession) = error { return true }
        return false
    }

    /// One clear line for a user.
    static func explain(_ error: QSMClientError) -> String {
        switch error {
        case .broker(let declared): explain(declared)
        case .admin(.noSuchProjection(let name)): named("io.qsm.Admin.NoSuchProjection", ["name": name])
        case .reply(let name, let json): explainGeneric(name, json)
        case .connection, .malformedReply: "\(error)"
        }
    }

    static func explain(_ error: BrokerAPIError) -> String {
        switch error {
        case .authenticationFailed: "wrong username or password"
        case .secondFactorRequired: "this account has a second factor: give its code (qsm login asks, or --code)"
        case .secondFactorNotEnabled: "no second factor is on for this account (qsm mfa enable)"
        case .secondFactorAlreadyEnabled: "the second factor is already on (qsm mfa disable first to enrol again)"
        case .accountLocked(let retry): "account locked after repeated failed logins: try again in \(retry) s"
        case .invalidSession(let reason): "not logged in (\(reason)): run qsm login USER"
        case .userExists(let username): "the username \(username) is taken"
        case .noSuchUser(let username): "no user named \(username)"
        case .noSuchMessage(let id): "no message \(id)"
        case .senderCopyMissing(let id):
            "message \(id) was sent in pqc before qsm kept a copy for its sender: only its recipient can read it"
        case .accessDenied(let resource): "access denied: \(resource) (recorded)"
        case .eavesdroppingDetected(let qber, let bound, let threshold):
            "key exchange aborted, possible eavesdropper: QBER \(qber), bound \(bound) over the threshold \(threshold)"
        case .qubitBudgetExceeded(let limit, let window, let retry):
            "key exchange budget used up (\(limit) qubits per user in \(window) s): try again in \(retry) s"
        case .insufficientKeyMaterial(let needed, let available):
            "not enough BB84 key: \(available) bytes, \(needed) needed"
        case .invalidInput(let field, let reason): "\(cliWords[field] ?? field): \(reason)"
        case .throttled(let retry): "too many messages: sending resumes in \(retry) s"
        // Said by name and parameters, as any error without words of its own.
        case .messageAltered(let id): named("io.qsm.Broker.MessageAltered", ["messageId": id])
        case .unavailable(let reason): named("io.qsm.Broker.Unavailable", ["reason": reason])
        }
    }

    private static func named(_ name: String, _ parameters: [String: String]) -> String {
        explainGeneric(name, (try? JSONSerialization.data(withJSONObject: parameters)) ?? Data("{}".utf8))
    }

    /// The parameters org.varlink.service's errors (and qsmd's framing errors) carry.
    private struct GenericParameters: Decodable {
        var method: String?
        var interface: String?
        var parameter: String?
        var limit: Int?
    }

    /// An error no interface of ours declares: Varlink's own, or one this qsm does not know yet.
    private static func explainGeneric(_ name: String, _ json: Data) -> String {
        let p = (try? JSONDecoder().decode(GenericParameters.self, from: json)) ?? GenericParameters()
        switch name.split(separator: ".").last.map(String.init) ?? name {
        case "PermissionDenied": return "permission denied: administrators only"
        case "MethodNotFound": return "the daemon does not know \(p.method ?? "this method")"
        case "InterfaceNotFound": return "the daemon does not serve \(p.interface ?? "this interface")"
        case "InvalidParameter": return "invalid parameter \(p.parameter ?? "")"
        case "FrameTooLarge":
            return "too large: qsmd takes calls of at most \(p.limit.map(String.init) ?? "?") bytes, and messages of at most its "
                + "maxMessageBytes (64 KiB unless configured; docs/qsmd.md)"
        default:
            let empty = (try? JSONDecoder().decode([String: JSONValue].self, from: json))?.isEmpty ?? true
            let sorted = (try? JSONSerialization.jsonObject(with: json))
                .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
            return empty ? name : "\(name) " + String(decoding: sorted ?? json, as: UTF8.self)
        }
    }
}

/// Why talking to the daemon failed before a call was made.
struct ConnectionError: Error, CustomStringConvertible {
    let description: String
}
