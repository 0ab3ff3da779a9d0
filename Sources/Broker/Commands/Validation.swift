import Foundation
import QSMCrypto
import EventLog
import SwiftProtobuf
import Synchronization

/// Checks on user input, each failing with the parameter's name and what is allowed. The command line
/// runs the same checks before it prompts for a password (package access).
package enum Validation {
    /// Usernames: 3-32 characters, lowercase ASCII letters, digits, '_', '.', '-', starting with a letter.
    package static let usernameRule = "3-32 characters: a-z, 0-9, '_', '.', '-', starting with a letter"
    /// Names the intrusion detection uses as subjects.
    static let reservedNames: Set<String> = ["system", "local"]

    package static func username(_ name: String, parameter: String = "username") throws(BrokerError) {
        let bytes = Array(name.utf8)
        guard (3...32).contains(bytes.count), let first = bytes.first, (97...122).contains(first),
              bytes.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 46 || $0 == 45 })
        else { throw .invalidParameter(name: parameter, reason: usernameRule) }
        guard !reservedNames.contains(name) else { throw .invalidParameter(name: parameter, reason: "\(name) is reserved") }
    }

    package static func password(_ password: String, configuration: BrokerConfiguration, parameter: String = "password")
        throws(BrokerError)
    {
        let count = password.utf8.count
        guard count >= configuration.minPasswordBytes else {
            throw .invalidParameter(name: parameter, reason: "at least \(configuration.minPasswordBytes) bytes")
        }
        guard count <= configuration.maxPasswordBytes else {
            throw .invalidParameter(name: parameter, reason: "at most \(configuration.maxPasswordBytes) bytes")
        }
        guard !password.utf8.contains(0) else { throw .invalidParameter(name: parameter, reason: "contains a NUL byte") }
    }

    /// What a second-factor code must look like.
    package static let codeRule = "6 digits from the authenticator app, or a recovery code (xxxxx-xxxxx)"

    /// Whether `code` has the form of a TOTP code or a recovery code (nothing else is checked here).
    package static func isWellFormedCode(_ code: String) -> Bool {
        code.utf8.count <= 32 && (TOTP.isWellFormed(code) || RecoveryCodes.normalized(code) != nil)
    }

    static func probability(_ value: Double, parameter: String) throws(BrokerError) {
        guard value.isFinite, (0...1).contains(value) else {
            throw .invalidParameter(name: parameter, reason: "must be a probability in [0, 1]")
        }
    }

    static func limit(_ value: Int?, default fallback: Int, max: Int = 10_000) throws(BrokerError) -> Int {
        guard let value else { return fallback }
        guard value >= 1 && value <= max else { throw .invalidParameter(name: "limit", reason: "must be 1-\(max)") }
        return value
    }
}
