public import Foundation

/// The errors io.qsm.Broker declares, one case each, with their parameters.
public enum BrokerAPIError: Error, Sendable, Equatable {
    /// Wrong username or password (deliberately not saying which).
    case authenticationFailed
    /// The password was right and the user has a second factor on: call again with its code.
    case secondFactorRequired
    /// The call needs a second factor the user does not have (or has not confirmed).
    case secondFactorNotEnabled
    /// Enrolment was asked for while the factor is on.
    case secondFactorAlreadyEnabled
    /// Too many failed logins: try again after this many seconds.
    case accountLocked(retryAfterSeconds: Int)
    /// The token names no live session.
    case invalidSession(reason: String)
    case userExists(username: String)
    case noSuchUser(username: String)
    case noSuchMessage(messageId: String)
    case senderCopyMissing(messageId: String)
    /// The resource belongs to another user; the attempt is recorded.
    case accessDenied(resource: String)
    /// The key exchange aborted: the QBER's upper bound exceeds the threshold.
    case eavesdroppingDetected(qber: Double, qberUpperBound: Double, threshold: Double)
    case qubitBudgetExceeded(limitQubits: Int, windowSeconds: Int, retryAfterSeconds: Int)
    case insufficientKeyMaterial(neededBytes: Int, availableBytes: Int)
    case invalidInput(field: String, reason: String)
    case throttled(retryAfterSeconds: Int)
    case messageAltered(messageId: String)
    case unavailable(reason: String)

    /// The error's qualified name, "io.qsm.Broker.AccountLocked".
    public var name: String {
        let short =
            switch self {
            case .authenticationFailed: "AuthenticationFailed"
            case .secondFactorRequired: "SecondFactorRequired"
            case .secondFactorNotEnabled: "SecondFactorNotEnabled"
            case .secondFactorAlreadyEnabled: "SecondFactorAlreadyEnabled"
            case .accountLocked: "AccountLocked"
            case .invalidSession: "InvalidSession"
            case .userExists: "UserExists"
            case .noSuchUser: "NoSuchUser"
            case .noSuchMessage: "NoSuchMessage"
            case .senderCopyMissing: "SenderCopyMissing"
            case .accessDenied: "AccessDenied"
            case .eavesdroppingDetected: "EavesdroppingDetected"
            case .qubitBudgetExceeded: "QubitBudgetExceeded"
            case .insufficientKeyMaterial: "InsufficientKeyMaterial"
            case .invalidInput: "InvalidInput"
            case .throttled: "Throttled"
            case .messageAltered: "MessageAltered"
            case .unavailable: "Unavailable"
            }
        return BrokerAPI.interface + "." + short
    }

    /// Every parameter any declared error has; each error reads the ones it declares.
    struct Fields: Decodable {
        var retryAfterSeconds: Int?
        var reason: String?
        var username: String?
        var messageId: String?
        var resource: String?
        var qber: Double?
        var qberUpperBound: Double?
        var threshold: Double?
        var limitQubits: Int?
        var windowSeconds: Int?
        var neededBytes: Int?
        var availableBytes: Int?
        var field: String?
    }

    /// The declared error `name` (qualified) with its parameters, or nil for a name Broker does not declare.
    init?(name: String, parameters: Data) {
        let prefix = BrokerAPI.interface + "."
        guard name.hasPrefix(prefix) else { return nil }
        let f = (try? JSONDecoder().decode(Fields.self, from: parameters)) ?? Fields()
        switch name.dropFirst(prefix.count) {
        case "AuthenticationFailed": self = .authenticationFailed
        case "SecondFactorRequired": self = .secondFactorRequired
        case "SecondFactorNotEnabled": self = .secondFactorNotEnabled
        case "SecondFactorAlreadyEnabled": self = .secondFactorAlreadyEnabled
        case "AccountLocked": self = .accountLocked(retryAfterSeconds: f.retryAfterSeconds ?? 0)
        case "InvalidSession": self = .invalidSession(reason: f.reason ?? "")
        case "UserExists": self = .userExists(username: f.username ?? "")
        case "NoSuchUser": self = .noSuchUser(username: f.username ?? "")
        case "NoSuchMessage": self = .noSuchMessage(messageId: f.messageId ?? "")
        case "SenderCopyMissing": self = .senderCopyMissing(messageId: f.messageId ?? "")
        case "AccessDenied": self = .accessDenied(resource: f.resource ?? "")
        case "EavesdroppingDetected":
            self = .eavesdroppingDetected(qber: f.qber ?? 0, qberUpperBound: f.qberUpperBound ?? 0, threshold: f.threshold ?? 0)
        case "QubitBudgetExceeded":
            self = .qubitBudgetExceeded(
                limitQubits: f.limitQubits ?? 0, windowSeconds: f.windowSeconds ?? 0, retryAfterSeconds: f.retryAfterSeconds ?? 0)
        case "InsufficientKeyMaterial":
            self = .insufficientKeyMaterial(neededBytes: f.neededBytes ?? 0, availableBytes: f.availableBytes ?? 0)
        case "InvalidInput": self = .invalidInput(field: f.field ?? "", reason: f.reason ?? "")
        case "Throttled": self = .throttled(retryAfterSeconds: f.retryAfterSeconds ?? 0)
        case "MessageAltered": self = .messageAltered(messageId: f.messageId ?? "")
        case "Unavailable": self = .unavailable(reason: f.reason ?? "")
        default: return nil
        }
    }
}

/// The errors io.qsm.Admin declares.
public enum AdminAPIError: Error, Sendable, Equatable {
    /// Rebuild was asked for a projection qsmd does not have.
    case noSuchProjection(name: String)

    private struct Fields: Decodable { var name: String? }

    init?(name: String, parameters: Data) {
        guard name == AdminAPI.interface + ".NoSuchProjection" else { return nil }
        self = .noSuchProjection(name: (try? JSONDecoder().decode(Fields.self, from: parameters))?.name ?? "")
    }
}

/// Why a call through ``QSMConnection`` or ``QSMClient`` failed.
public enum QSMClientError: Error, Sendable, CustomStringConvertible {
    /// The socket could not be reached, or closed before the reply.
    case connection(String)
    /// One of the errors io.qsm.Broker declares.
    case broker(BrokerAPIError)
    /// One of the errors io.qsm.Admin declares.
    case admin(AdminAPIError)
    /// Any other error reply (org.varlink.service.PermissionDenied, io.qsm.Admin's, ...): its name and
    /// parameters as JSON.
    case reply(name: String, parametersJSON: Data)
    /// The reply was not the JSON the method declares.
    case malformedReply(String)

    /// The qualified name of the error reply qsmd sent, or nil when there was no reply.
    public var replyName: String? {
        switch self {
        case .broker(let error): error.name
        case .admin(.noSuchProjection): AdminAPI.interface + ".NoSuchProjection"
        case .reply(let name, _): name
        case .connection, .malformedReply: nil
        }
    }

    /// The error reply `name` with `parameters`, typed where it is declared.
    static func fromReply(name: String, parameters: Data) -> QSMClientError {
        if let declared = BrokerAPIError(name: name, parameters: parameters) { return .broker(declared) }
        if let declared = AdminAPIError(name: name, parameters: parameters) { return .admin(declared) }
        return .reply(name: name, parametersJSON: parameters)
    }

    public var description: String {
        switch self {
        case .connection(let reason): "qsmd: \(reason)"
        case .broker(let error): "\(error)"
        case .admin(let error): "\(error)"
        case .reply(let name, let json): "\(name) \(String(decoding: json, as: UTF8.self))"
        case .malformedReply(let reason): "qsmd sent a reply that is not what the method declares: \(reason)"
        }
    }
}
