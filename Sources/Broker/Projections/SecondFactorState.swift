public import Foundation
import QSMEvents
import EventLog
import SwiftProtobuf

extension UsersProjection {
    /// A user's TOTP second factor as the log left it: the sealed secret (never the secret), whether it
    /// is on, the last time step a code was accepted for, and the hashes of the unused recovery codes.
    public struct SecondFactor: Codable, Sendable, Equatable {
        /// The SecondFactorStarted event's WrappedSecret, serialized (sealed under the master key).
        public var secret: Data
        /// The position of that event: a code checked against an older secret is refused.
        public var startedAt: UInt64
        /// "SHA1" or "SHA256".
        public var algorithm: String
        /// False between StartSecondFactor and ConfirmSecondFactor.
        public var enabled: Bool
        /// The highest step a code was accepted for: that step and earlier ones are refused (no replay).
        public var lastStep: Int64
        /// Hex HMACs of the current recovery codes by index; a spent code's entry is empty.
        public var recoveryCodes: [String]

        /// Unused recovery codes.
        public var recoveryCodesLeft: Int { recoveryCodes.count { !$0.isEmpty } }
    }

    /// Folds the second-factor events (and the step a login used) into `users`.
    mutating func evolveSecondFactor(_ event: QSMEvent) {
        switch event.body {
        case .secondFactorStarted(let started):
            users[started.username]?.secondFactor = SecondFactor(
                secret: (try? started.secret.serializedBytes()) ?? Data(), startedAt: event.position,
                algorithm: started.algorithm, enabled: false, lastStep: 0, recoveryCodes: [])
        case .secondFactorEnabled(let enabled):
            users[enabled.username]?.secondFactor?.enabled = true
            users[enabled.username]?.secondFactor?.recoveryCodes = enabled.recoveryCodeHashes.map(\.hex)
            accept(step: enabled.step, for: enabled.username)
        case .secondFactorDisabled(let disabled):
            users[disabled.username]?.secondFactor = nil
        case .recoveryCodesGenerated(let generated):
            users[generated.username]?.secondFactor?.recoveryCodes = generated.recoveryCodeHashes.map(\.hex)
            accept(step: generated.step, for: generated.username)
        case .recoveryCodeUsed(let used):
            let index = Int(used.index)
            if let codes = users[used.username]?.secondFactor?.recoveryCodes, codes.indices.contains(index) {
                users[used.username]?.secondFactor?.recoveryCodes[index] = ""
            }
        case .loginSucceeded(let login) where login.secondFactorStep != 0:
            accept(step: login.secondFactorStep, for: login.username)
        default:
            break
        }
    }

    private mutating func accept(step: Int64, for username: String) {
        guard step != 0, let last = users[username]?.secondFactor?.lastStep else { return }
        users[username]?.secondFactor?.lastStep = max(last, step)
    }
}
