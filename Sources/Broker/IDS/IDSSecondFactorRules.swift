import Foundation
import QSMEvents
import EventLog
import SwiftProtobuf

/// The second factor's rules: wrong codes after a right password mean someone holds the password, so
/// they lock the account for every source (a per-source lock would let them try from elsewhere); a spent
/// recovery code is worth telling its owner about.
extension IDSProjection {
    /// The window key of an account's wrong codes, in `accountFailures` beside the brute-force pairs:
    /// usernames start with a letter and pairs with a username, so no pair key starts with a digit.
    static func secondFactorKey(_ username: String) -> String { "2fa\n" + username }

    mutating func secondFactorFailed(_ username: String, event: QSMEvent, mark: Mark) {
        let threshold = rules.secondFactorFailures
        count(\.accountFailures, Self.secondFactorKey(username), mark, threshold, rule: "second_factor_guessing",
              severity: .critical, event: event, subject: username, lock: true, lockSource: "",
              summary: "\(threshold.count) wrong second-factor codes for \(username) within \(threshold.windowSeconds) s "
                  + "after a right password: someone holds the password; logins to it are refused for a while")
    }

    mutating func recoveryCodeUsed(_ used: QSMRecoveryCodeUsed, event: QSMEvent, mark: Mark) {
        raise(rule: "recovery_code_used", severity: .low, subject: used.username, evidence: [mark], event: event,
              summary: "\(used.username) used a recovery code for \(used.method) (\(used.remaining) left): "
                  + "if that was not them, their password and a recovery code are known to someone")
    }
}
