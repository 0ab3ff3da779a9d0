import Foundation
import Glibc
import QSMClient

/// One sentence per refusal a person can cause, saying what to do about it.
enum Explain {
    static func sentence(_ error: BrokerAPIError) -> String {
        switch error {
        case .authenticationFailed: return "Wrong username or password: check both and try again."
        case .secondFactorRequired:
            return "This account has a second factor: type your password again with the code your authenticator app shows, "
                + "or one of your recovery codes."
        case .secondFactorNotEnabled: return "The second factor is not on for your account: set it up first."
        case .secondFactorAlreadyEnabled:
            return "The second factor is already on: turn it off first to set up a new authenticator app."
        case .accountLocked(let seconds):
            return "This account is locked after repeated failed logins: try again in \(waiting(seconds))."
        case .invalidSession: return "Your session has ended: log in again."
        case .userExists(let name): return "The username \(name) is taken: choose another one."
        case .noSuchUser(let name): return "There is no user named \(name): check the name and try again."
        case .noSuchMessage, .accessDenied: return WebFailure.notFound.sentence
        case .senderCopyMissing:
            return "This pqc message was sent before qsm kept a copy for its sender: only its recipient can read it."
        case .eavesdroppingDetected(let qber, let bound, let threshold):
            return "Key exchange aborted, possible eavesdropper: the error rate's bound \(percent(bound)) (measured \(percent(qber))) "
                + "is over the \(percent(threshold)) threshold, so no key was made; try again later."
        case .qubitBudgetExceeded(_, _, let seconds):
            return "You have used your key exchange budget for now: try again in \(waiting(seconds))."
        case .insufficientKeyMaterial:
            return "There is not enough shared key with this person: run a key exchange with them on the Key exchange page first."
        case .invalidInput(let field, let reason):
            if field == "body" {
                return "The message cannot be sent (\(reason)): shorten it or fix it and send it again."
            }
            return "The \(fieldName(field)) is not valid (\(reason)): correct it and try again."
        case .throttled(let seconds): return "Too many requests from you: try again in \(waiting(seconds))."
        case .messageAltered: return "This message was altered after it was sent and cannot be trusted: ask the sender to send it again."
        case .unavailable: return "The qsm broker cannot do this right now: try again in a moment."
        }
    }

    /// "3 seconds", "2 minutes".
    static func waiting(_ seconds: Int) -> String {
        seconds < 120 ? "\(seconds) second\(seconds == 1 ? "" : "s")" : "\((seconds + 59) / 60) minutes"
    }

    /// 0.0123 as "1.23%".
    static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

    /// Microseconds since the epoch as "2026-12-07 19:40:00" (UTC). By gmtime_r, not a DateFormatter:
    /// making one per row cost the inbox page a third of its time (tools/bench web).
    static func time(_ micros: Int) -> String {
        var seconds = time_t(micros / 1_000_000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "" }
        // By hand rather than String(format:), which went through CFString and was 7% of `GET /inbox`.
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return digits.count < width ? String(repeating: "0", count: width - digits.count) + digits : digits
        }
        return padded(parts.tm_year + 1900, 4) + "-" + padded(parts.tm_mon + 1, 2) + "-" + padded(parts.tm_mday, 2) + " "
            + padded(parts.tm_hour, 2) + ":" + padded(parts.tm_min, 2) + ":" + padded(parts.tm_sec, 2)
    }

    private static func fieldName(_ field: String) -> String {
        ["username": "username", "password": "password", "to": "recipient", "peer": "peer", "qubits": "number of qubits",
         "noise": "noise", "eavesdropper": "eavesdropper fraction", "mode": "encryption mode"][field] ?? field
    }
}
