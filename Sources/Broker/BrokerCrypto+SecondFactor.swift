import Foundation
import QSMCrypto
import QSMEvents
import SwiftProtobuf

/// A second-factor code as checked before deciding (the secret is unwrapped off the writer; the decider
/// only compares what this found with the state it decides against).
struct CheckedCode: Sendable {
    /// The position of the SecondFactorStarted whose secret the code was checked against.
    let startedAt: UInt64
    /// The TOTP step within one step of the clock whose code it is, if any.
    let step: Int64?
    /// The keyed hash of the code, when it has the form of a recovery code.
    let recoveryHash: Data?
}

/// A new TOTP secret: sealed for the log, and its URI for the user (shown once).
struct NewSecondFactor: Sendable {
    let sealed: QSMWrappedSecret
    let uri: String
}

/// Recovery codes made before deciding: the codes for the reply, their hashes for the log.
struct NewRecoveryCodes: Sendable {
    let codes: [String]
    let hashes: [Data]
}

extension BrokerCrypto {
    /// TOTP parameters qsm enrols with: what every authenticator app reads.
    static let totpDigits = 6
    static let totpPeriod: Int64 = 30
    /// The issuer named in otpauth URIs.
    static let totpIssuer = "qsm"

    /// The master-key context a user's TOTP secret is sealed under.
    static func totpContext(_ username: String) -> String { "totp:" + username }

    /// Draws a 160-bit secret for `username` and seals it under the master key.
    func newSecondFactor(username: String) throws(BrokerError) -> NewSecondFactor {
        let secret = SecretBytes(randomCount: TOTP.secretByteCount)
        do {
            let sealed = try masterKey.wrap(secret, context: Self.totpContext(username))
            let totp = TOTP(secret: secret, digits: Self.totpDigits, period: Self.totpPeriod)
            return NewSecondFactor(sealed: sealed.event, uri: totp.uri(issuer: Self.totpIssuer, account: username))
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Checks `code` against `username`'s factor at `now` (microseconds): the TOTP step it matches within
    /// one step either side, and its recovery-code hash. The same work whatever the code, so that its
    /// time tells nothing; an unreadable secret matches nothing.
    func checkCode(_ code: String, username: String, factor: UsersProjection.SecondFactor, now: Int64) -> CheckedCode {
        var step: Int64?
        if let wrapped = try? QSMWrappedSecret(serializedBytes: factor.secret),
           let secret = try? masterKey.unwrap(WrappedSecret(wrapped), context: Self.totpContext(username))
        {
            let totp = TOTP(
                secret: secret, algorithm: TOTP.Algorithm(rawValue: factor.algorithm) ?? .sha1, digits: Self.totpDigits,
                period: Self.totpPeriod)
            step = totp.matchingStep(of: code, around: totp.step(atUnixSeconds: now / 1_000_000), window: 1)
        }
        return CheckedCode(
            startedAt: factor.startedAt, step: step,
            recoveryHash: RecoveryCodes.hash(code, username: username, masterKey: masterKey))
    }

    /// A fresh set of recovery codes for `username` and their keyed hashes.
    func newRecoveryCodes(username: String) -> NewRecoveryCodes {
        let codes = RecoveryCodes.generate()
        return NewRecoveryCodes(
            codes: codes, hashes: codes.compactMap { RecoveryCodes.hash($0, username: username, masterKey: masterKey) })
    }
}
