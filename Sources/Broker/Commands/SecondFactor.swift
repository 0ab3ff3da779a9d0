import Foundation
import QSMCrypto
import QSMEvents
import EventLog
import SwiftProtobuf

extension Broker {
    /// Starts enrolling a TOTP second factor for the session's user: draws a 160-bit secret, records it
    /// sealed under the master key, and returns the `otpauth://` URI (the only time the secret leaves).
    /// The factor is off until ``confirmSecondFactor(token:code:caller:)``.
    public func startSecondFactor(token: String, caller: Caller) async throws(BrokerError) -> String {
        let presented = PresentedToken(token)
        let now = configuration.clock()
        let user = read { $0.peekSession(presented, now: now) }
        let fresh = try user.map { name throws(BrokerError) in try crypto.newSecondFactor(username: name) }
        return try await submit(StartSecondFactorCommand(token: presented, user: user, fresh: fresh), caller: caller).get()
    }

    /// Turns the factor on with a first valid code of the enrolled secret; returns ten recovery codes,
    /// shown once (only their hashes are recorded).
    public func confirmSecondFactor(token: String, code: String, caller: Caller) async throws(BrokerError) -> [String] {
        let prepared = prepareCode(token: token, code: code, recoveryCodes: true)
        return try await submit(SecondFactorCommand(
            token: prepared.token, user: prepared.user, code: prepared.code, action: .confirm(prepared.codes)), caller: caller).get()
    }

    /// Turns the factor off; needs the password and a current code (or a recovery code).
    public func disableSecondFactor(token: String, password: String, code: String, caller: Caller) async throws(BrokerError) {
        guard password.utf8.count <= configuration.maxPasswordBytes else {
            throw .invalidParameter(name: "password", reason: "at most \(configuration.maxPasswordBytes) bytes")
        }
        let prepared = prepareCode(token: token, code: code, recoveryCodes: false)
        // Argon2id runs whatever the code, so a wrong code and a wrong password take as long.
        var passwordVersion: UInt64?
        if let name = prepared.user, let user = read({ $0.users[name] }) {
            passwordVersion = try await crypto.verifyLogin(username: name, password: password, user: user)?.credentialVersion
        }
        _ = try await submit(SecondFactorCommand(
            token: prepared.token, user: prepared.user, code: prepared.code, action: .disable(passwordVersion: passwordVersion)),
            caller: caller).get()
    }

    /// Replaces the recovery codes (every old one stops working); needs a current code (or a recovery code).
    public func newRecoveryCodes(token: String, code: String, caller: Caller) async throws(BrokerError) -> [String] {
        let prepared = prepareCode(token: token, code: code, recoveryCodes: true)
        return try await submit(SecondFactorCommand(
            token: prepared.token, user: prepared.user, code: prepared.code, action: .newRecoveryCodes(prepared.codes)),
            caller: caller).get()
    }

    /// The session's user, `code` checked against their factor, and new recovery codes when asked for.
    private func prepareCode(token: String, code: String, recoveryCodes: Bool)
        -> (token: PresentedToken, user: String?, code: PresentedCode, codes: NewRecoveryCodes?)
    {
        let presented = PresentedToken(token)
        let now = configuration.clock()
        let (user, factor) = read { state -> (String?, UsersProjection.SecondFactor?) in
            let name = state.peekSession(presented, now: now)
            return (name, name.flatMap { state.users[$0]?.secondFactor })
        }
        var checked: CheckedCode?
        if let user, let factor, Validation.isWellFormedCode(code) {
            checked = crypto.checkCode(code, username: user, factor: factor, now: now)
        }
        let codes = recoveryCodes ? user.map { crypto.newRecoveryCodes(username: $0) } : nil
        return (presented, user, PresentedCode(wellFormed: Validation.isWellFormedCode(code), checked: checked), codes)
    }
}

/// A second-factor code as the deciders see it: whether it had a code's form, and what checking it found.
struct PresentedCode: Sendable {
    let wellFormed: Bool
    let checked: CheckedCode?

    /// What the code is good for against `factor` at `now`: a TOTP step later than any used (no replay)
    /// and within one step of the decision's time, or an unused recovery code of the current set.
    func verdict(_ factor: UsersProjection.SecondFactor, now: Int64) -> CodeVerdict {
        guard let checked, checked.startedAt == factor.startedAt else { return .wrong }
        let current = now / 1_000_000 / BrokerCrypto.totpPeriod
        if let step = checked.step, step > factor.lastStep, abs(step - current) <= 1 { return .step(step) }
        if factor.enabled, let hash = checked.recoveryHash, let index = RecoveryCodes.index(of: hash, in: factor.recoveryCodes) {
            return .recoveryCode(index)
        }
        return .wrong
    }
}

/// What a presented code turned out to be.
enum CodeVerdict: Equatable {
    case step(Int64)
    case recoveryCode(Int)
    case wrong

    /// The step to record (0 for a recovery code, which has none).
    var step: Int64 {
        if case .step(let step) = self { return step }
        return 0
    }
}

extension Decision {
    /// Records a spent recovery code, if `verdict` is one.
    mutating func spendRecoveryCode(_ verdict: CodeVerdict, user: String, factor: UsersProjection.SecondFactor, method: String) {
        guard case .recoveryCode(let index) = verdict else { return }
        emit(.recoveryCodeUsed(QSMRecoveryCodeUsed.with {
            $0.username = user
            $0.index = UInt32(index)
            $0.method = method
            $0.remaining = UInt32(max(0, factor.recoveryCodesLeft - 1))
        }), actor: user)
    }
}

/// StartSecondFactor: records the sealed secret made before the command was queued, unless the factor
/// is already on.
struct StartSecondFactorCommand: BrokerCommand {
    let token: PresentedToken
    let user: String?
    let fresh: NewSecondFactor?

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<String, BrokerError> {
        let user: String
        switch state.authenticate(token, method: "StartSecondFactor", decision: &decision) {
        case .failure(let error): return .failure(error)
        case .success(let name): user = name
        }
        if state.users[user]?.secondFactor?.enabled ?? false {
            decision.refuse(.accessDenied(QSMAccessDenied.with {
                $0.username = user
                $0.method = "StartSecondFactor"
                $0.resource = "second_factor"
                $0.reason = .secondFactorState
            }), actor: user, state: state, always: true)
            return .failure(.secondFactorAlreadyEnabled)
        }
        guard let fresh, self.user == user else { return .failure(.unavailable("the session changed meanwhile: try again")) }
        decision.emit(.secondFactorStarted(QSMSecondFactorStarted.with {
            $0.username = user
            $0.secret = fresh.sealed
            $0.algorithm = TOTP.Algorithm.sha1.rawValue
            $0.digits = UInt32(BrokerCrypto.totpDigits)
            $0.periodSeconds = UInt32(BrokerCrypto.totpPeriod)
        }), actor: user)
        return .success(fresh.uri)
    }
}

/// ConfirmSecondFactor, DisableSecondFactor and NewRecoveryCodes: a session, a code in the right form, a
/// factor in the right state, then a code good for it (and for disabling, the password too). Every
/// refusal is recorded; a wrong code answers as a wrong password does.
struct SecondFactorCommand: BrokerCommand {
    enum Action: Sendable {
        case confirm(NewRecoveryCodes?)
        /// The credential version the password verified for, nil when it was wrong.
        case disable(passwordVersion: UInt64?)
        case newRecoveryCodes(NewRecoveryCodes?)

        var method: String {
            switch self {
            case .confirm: "ConfirmSecondFactor"
            case .disable: "DisableSecondFactor"
            case .newRecoveryCodes: "NewRecoveryCodes"
            }
        }
    }

    let token: PresentedToken
    let user: String?
    let code: PresentedCode
    let action: Action

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<[String], BrokerError> {
        let method = action.method
        let user: String
        switch state.authenticate(token, method: method, decision: &decision) {
        case .failure(let error): return .failure(error)
        case .success(let name): user = name
        }
        func refuse(_ reason: QSMAccessDenied.Reason, _ error: BrokerError) -> Result<[String], BrokerError> {
            decision.refuse(.accessDenied(QSMAccessDenied.with {
                $0.username = user
                $0.method = method
                $0.resource = "second_factor"
                $0.resourceID = user
                $0.reason = reason
            }), actor: user, state: state, always: reason == .badSecondFactor)
            return .failure(error)
        }
        guard code.wellFormed else { return refuse(.malformedCode, .invalidParameter(name: "code", reason: Validation.codeRule)) }
        guard let factor = state.users[user]?.secondFactor else { return refuse(.secondFactorState, .secondFactorNotEnabled) }
        if case .confirm = action {
            guard !factor.enabled else { return refuse(.secondFactorState, .secondFactorAlreadyEnabled) }
        } else {
            guard factor.enabled else { return refuse(.secondFactorState, .secondFactorNotEnabled) }
        }
        guard self.user == user else { return .failure(.unavailable("the session changed meanwhile: try again")) }
        let verdict = code.verdict(factor, now: decision.now)
        var verified = true
        if case .disable(let version) = action { verified = version != nil && version == state.users[user]?.credentialVersion }
        guard verdict != .wrong, verified else { return refuse(.badSecondFactor, .badCredentials) }
        switch action {
        case .confirm(let codes):
            guard let codes else { return .failure(.unavailable("the session changed meanwhile: try again")) }
            decision.emit(.secondFactorEnabled(QSMSecondFactorEnabled.with {
                $0.username = user
                $0.step = verdict.step
                $0.recoveryCodeHashes = codes.hashes
            }), actor: user)
            return .success(codes.codes)
        case .disable:
            decision.spendRecoveryCode(verdict, user: user, factor: factor, method: method)
            decision.emit(.secondFactorDisabled(QSMSecondFactorDisabled.with {
                $0.username = user
                $0.step = verdict.step
            }), actor: user)
            return .success([])
        case .newRecoveryCodes(let codes):
            guard let codes else { return .failure(.unavailable("the session changed meanwhile: try again")) }
            decision.spendRecoveryCode(verdict, user: user, factor: factor, method: method)
            decision.emit(.recoveryCodesGenerated(QSMRecoveryCodesGenerated.with {
                $0.username = user
                $0.recoveryCodeHashes = codes.hashes
                $0.step = verdict.step
            }), actor: user)
            return .success(codes.codes)
        }
    }
}
