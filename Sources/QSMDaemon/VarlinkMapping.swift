public import Broker
import EventLog
import Foundation
public import Varlink

/// Converts between the broker's Swift values and Varlink JSON, and maps refusals to declared errors.
public enum VarlinkMapping {
    static let broker = "io.qsm.Broker"

    /// The Varlink error for a broker refusal; `now` (microseconds) turns deadlines into seconds to wait.
    public static func error(_ error: BrokerError, now: Int64) -> VarlinkError {
        func seconds(until: Int64) -> JSONValue { .int(Int(max(1, (until - now + 999_999) / 1_000_000))) }
        switch error {
        case .invalidParameter(let name, let reason):
            return VarlinkError("\(broker).InvalidInput", parameters: ["field": .string(name), "reason": .string(reason)])
        case .usernameTaken(let name): return VarlinkError("\(broker).UserExists", parameters: ["username": .string(name)])
        case .unknownUser(let name): return VarlinkError("\(broker).NoSuchUser", parameters: ["username": .string(name)])
        case .badCredentials: return VarlinkError("\(broker).AuthenticationFailed")
        case .accountLocked(let until):
            return VarlinkError("\(broker).AccountLocked", parameters: ["retryAfterSeconds": seconds(until: until)])
        case .throttled(let until), .sourceThrottled(_, let until):
            return VarlinkError("\(broker).Throttled", parameters: ["retryAfterSeconds": seconds(until: until)])
        case .noSession: return VarlinkError("\(broker).InvalidSession", parameters: ["reason": "no session"])
        case .sessionExpired: return VarlinkError("\(broker).InvalidSession", parameters: ["reason": "expired"])
        case .sessionRevoked: return VarlinkError("\(broker).InvalidSession", parameters: ["reason": "ended"])
        case .privateKeyUnavailable:
            return VarlinkError("\(broker).InvalidSession", parameters: ["reason": "log in again to read pqc messages"])
        case .noSenderCopy(let id):
            return VarlinkError("\(broker).SenderCopyMissing", parameters: ["messageId": .string(id)])
        case .notOwner(let resource): return VarlinkError("\(broker).AccessDenied", parameters: ["resource": .string(resource)])
        case .notAdmin: return .permissionDenied
        case .unknownMessage(let id): return VarlinkError("\(broker).NoSuchMessage", parameters: ["messageId": .string(id)])
        case .keyExchangeAborted(_, let qber, let bound, let threshold):
            return VarlinkError("\(broker).EavesdroppingDetected", parameters: [
                "qber": .double(qber), "qberUpperBound": .double(bound), "threshold": .double(threshold),
            ])
        case .qubitBudgetExceeded(let limit, let window, let until):
            return VarlinkError("\(broker).QubitBudgetExceeded", parameters: [
                "limitQubits": .int(limit), "windowSeconds": .int(Int(window)), "retryAfterSeconds": seconds(until: until),
            ])
        case .keyPoolShort(let needed, let available):
            return VarlinkError("\(broker).InsufficientKeyMaterial", parameters: [
                "neededBytes": .int(Int(needed)), "availableBytes": .int(Int(available)),
            ])
        case .integrityFailure(let id): return VarlinkError("\(broker).MessageAltered", parameters: ["messageId": .string(id)])
        case .secondFactorRequired: return VarlinkError("\(broker).SecondFactorRequired")
        case .secondFactorNotEnabled: return VarlinkError("\(broker).SecondFactorNotEnabled")
        case .secondFactorAlreadyEnabled: return VarlinkError("\(broker).SecondFactorAlreadyEnabled")
        case .storage(let error): return VarlinkError("\(broker).Unavailable", parameters: ["reason": .string("\(error)")])
        case .unavailable(let reason): return VarlinkError("\(broker).Unavailable", parameters: ["reason": .string(reason)])
        }
    }

    // MARK: Parameters

    static func string(_ call: VarlinkCall, _ name: String) throws -> String {
        guard let value = call[name]?.stringValue else { throw VarlinkError.invalidParameter(name) }
        return value
    }

    static func optionalString(_ call: VarlinkCall, _ name: String) throws -> String? {
        guard let value = call[name], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw VarlinkError.invalidParameter(name) }
        return string
    }

    static func optionalInt(_ call: VarlinkCall, _ name: String) throws -> Int? {
        guard let value = call[name], !value.isNull else { return nil }
        guard let int = value.intValue else { throw VarlinkError.invalidParameter(name) }
        return int
    }

    static func optionalDouble(_ call: VarlinkCall, _ name: String) throws -> Double? {
        guard let value = call[name], !value.isNull else { return nil }
        guard let double = value.doubleValue else { throw VarlinkError.invalidParameter(name) }
        return double
    }

    static func optionalBool(_ call: VarlinkCall, _ name: String) throws -> Bool? {
        guard let value = call[name], !value.isNull else { return nil }
        guard let bool = value.boolValue else { throw VarlinkError.invalidParameter(name) }
        return bool
    }

    // MARK: Values

    static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .int(Int(value)) }

    /// Any JSON from Foundation (JSONSerialization) as a JSONValue.
    static func json(_ any: Any) -> JSONValue {
        switch any {
        case let string as String: return .string(string)
        case let bool as Bool where type(of: any) == Bool.self: return .bool(bool)
        case let number as NSNumber:
            // JSONSerialization's booleans are NSNumbers on Linux; their objCType is "c".
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            let double = number.doubleValue
            return double == double.rounded() && abs(double) < 9e15 ? .int(number.intValue) : .double(double)
        case let array as [Any]: return .array(array.map(json))
        case let object as [String: Any]: return .object(object.mapValues(json))
        default: return .null
        }
    }
}
