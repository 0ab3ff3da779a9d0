import Foundation
import QSMCrypto
import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// A new session: the token (shown once; only its hash is stored), its user and its expiry.
public struct LoginResult: Sendable {
    public let token: String
    public let username: String
    /// Microseconds since the epoch.
    public let expiresAt: Int64
}

extension Broker {
    /// Registers `username` with `password`: an Argon2id hash and an X-Wing key pair whose private key is
    /// wrapped under a key derived from the password. A taken name and a throttled source are refused
    /// (and recorded) without that work.
    public func register(username: String, password: String, caller: Caller) async throws(BrokerError) -> String {
        try Validation.username(username)
        try Validation.password(password, configuration: configuration)
        let now = configuration.clock()
        let refused = read { state in
            state.users[username] != nil || RegisterCommand.throttle(state, caller: caller, now: now) != nil
        }
        let credentials = refused ? nil : try await crypto.newCredentials(username: username, password: password)
        return try await submit(RegisterCommand(username: username, credentials: credentials), caller: caller).get()
    }

    /// Logs `username` in: checks the lockout, verifies the password (and `code`, the second factor, when
    /// the user has one on), rehashes the password if its cost is below the configured one, unwraps the
    /// pqc private key into memory, and starts a session.
    public func login(username: String, password: String, code: String? = nil, caller: Caller) async throws(BrokerError)
        -> LoginResult
    {
        try Validation.username(username)
        let malformedCode = code.map { !Validation.isWellFormedCode($0) } ?? false
        guard password.utf8.count <= configuration.maxPasswordBytes else {
            throw .invalidParameter(name: "password", reason: "at most \(configuration.maxPasswordBytes) bytes")
        }
        let now = configuration.clock()
        let source = caller.source.text
        let (user, locked) = read { ($0.users[username], $0.ids.loginLock(username: username, source: source, now: now, admin: caller.isAdmin) != nil) }
        // Work before deciding: verification only when the account exists and is not locked. A login
        // locked for its source does no work at all, whether the name exists or not.
        var verified: VerifiedLogin?
        var checkedCode: CheckedCode?
        if locked || malformedCode {
            verified = nil
        } else if let user, (user.lockedUntil ?? .min) <= now {
            // The code first (cheap), so that a login its code fails does one Argon2id run, as a wrong
            // password does, and not a second one to unwrap the pqc key: the time tells neither apart.
            var codeFails = false
            if let factor = user.secondFactor, factor.enabled {
                checkedCode = code.map { crypto.checkCode($0, username: username, factor: factor, now: now) }
                codeFails = checkedCode.map { PresentedCode(wellFormed: true, checked: $0).verdict(factor, now: now) == .wrong } ?? true
            }
            verified = try await crypto.verifyLogin(username: username, password: password, user: user, unwrapKey: !codeFails)
        } else if user == nil {
            await crypto.equalizeTiming(password: password)
        }
        let token = SessionToken()
        // The private key, sealed under a key only the token rebuilds, goes into the login event so that
        // the session can still open pqc messages after a restart (docs/crypto.md, "Sessions across restarts").
        let sealedKey = verified?.privateKey.flatMap { try? SessionKeySealing.seal($0, token: token, username: username).event }
        var command = LoginCommand(
            username: username, verified: verified, sessionID: token.sessionID, token: token.transportEncoding,
            lifetime: configuration.sessionLifetimeSeconds * 1_000_000, sealedPrivateKey: sealedKey)
        command.code = code.map { _ in PresentedCode(wellFormed: !malformedCode, checked: checkedCode) }
        let result = await submit(command, caller: caller)
        let sessionID = token.sessionID
        let login = try result.get()
        if let key = verified?.privateKey { sessionKeys.withLock { $0[sessionID.hex] = key } }
        return login
    }

    /// Ends the session of `token`.
    public func logout(token: String, caller: Caller) async throws(BrokerError) {
        let presented = PresentedToken(token)
        try await submit(LogoutCommand(token: presented), caller: caller).get()
        if let id = presented.sessionID { _ = sessionKeys.withLock { $0.removeValue(forKey: id.hex) } }
    }

    /// Changes the password of the session's user after checking the old one; rewraps the pqc private
    /// key under the new password. Every session of the user ends: log in again.
    public func changePassword(token: String, oldPassword: String, newPassword: String, caller: Caller)
        async throws(BrokerError)
    {
        try Validation.password(newPassword, configuration: configuration, parameter: "newPassword")
        let presented = PresentedToken(token)
        let now = configuration.clock()
        let prepared: (user: String, change: PreparedPasswordChange?)? = try await {
            () async throws(BrokerError) -> (String, PreparedPasswordChange?)? in
            guard let name = read({ $0.peekSession(presented, now: now) }), let user = read({ $0.users[name] })
            else { return nil }
            return (name, try await crypto.preparePasswordChange(
                username: name, user: user, oldPassword: oldPassword, newPassword: newPassword))
        }()
        try await submit(ChangePasswordCommand(token: presented, prepared: prepared), caller: caller).get()
        // The projection ended every session of the user; drop their private keys too.
        if let user = prepared?.user {
            let ids = read { state in state.sessions.sessions.filter { $0.value.username == user }.map(\.key) }
            sessionKeys.withLock { keys in for id in ids { keys[id] = nil } }
        }
    }
}

/// Register: records the user with the credentials made before the command was queued. Refusals (a
/// taken name, a source whose registrations the intrusion detection throttles) are recorded: both count
/// towards the account_farming rule, which is what bounds how fast a source can learn taken names.
struct RegisterCommand: BrokerCommand {
    let username: String
    /// Nil when the name was taken or the source throttled as the call came in (no hashing was done).
    let credentials: NewCredentials?

    /// Until when `caller`'s source may not register, if it may not at `now`. Administrators (root, the
    /// daemon's uid, the admin group) are exempt: enrolling users in bulk is their job.
    static func throttle(_ state: BrokerState, caller: Caller, now: Int64) -> Int64? {
        guard !caller.isAdmin, let until = state.ids.registrationThrottles[caller.source.text], until > now else {
            return nil
        }
        return until
    }

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<String, BrokerError> {
        func refuse(_ reason: QSMAccessDenied.Reason, always: Bool) {
            decision.refuse(.accessDenied(QSMAccessDenied.with {
                $0.method = "Register"
                $0.resource = "user"
                $0.resourceID = username
                $0.reason = reason
            }), actor: "", state: state, always: always)
        }
        if let until = Self.throttle(state, caller: decision.caller, now: decision.now) {
            refuse(.throttled, always: false)
            return .failure(.sourceThrottled(what: "registrations", until: until))
        }
        guard state.users[username] == nil else {
            refuse(.usernameTaken, always: true)
            return .failure(.usernameTaken(username))
        }
        guard let credentials else { return .failure(.unavailable("the registration limit changed meanwhile: try again")) }
        decision.emit(.userRegistered(QSMUserRegistered.with {
            $0.username = username
            $0.passwordHash = credentials.passwordHash
            $0.pqcPublicKey = credentials.publicKey
            $0.pqcPrivateKey = credentials.wrappedPrivateKey
            $0.ignoredOrigin = decision.caller.ignoredOrigin ?? ""
        }), actor: username)
        return .success(username)
    }
}

/// Login: checks the lockout and the password verified before the command was queued (against the
/// credential version it was verified for), records a rehash, and starts the session.
struct LoginCommand: BrokerCommand {
    let username: String
    /// Nil when the password was wrong, or was not checked (no such user, or locked).
    let verified: VerifiedLogin?
    let sessionID: Data
    /// The token as the client gets it (only its hash, the session id, is recorded).
    let token: String
    /// Microseconds.
    let lifetime: Int64
    /// The pqc private key sealed for this session's token, when the user has one.
    var sealedPrivateKey: QSMWrappedSecret? = nil
    /// The second-factor code given, as checked before the command was queued; nil when none was given.
    var code: PresentedCode? = nil

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<LoginResult, BrokerError> {
        func fail(_ reason: QSMLoginFailed.Reason, _ error: BrokerError) -> Result<LoginResult, BrokerError> {
            // Failures the rules count towards locks are always recorded; refusals of a locked source
            // are only counted past their burst.
            decision.refuse(.loginFailed(QSMLoginFailed.with {
                $0.username = username
                $0.reason = reason
                $0.ignoredOrigin = decision.caller.ignoredOrigin ?? ""
            }), actor: username, state: state, always: [.badPassword, .unknownUser, .badSecondFactor].contains(reason))
            return .failure(error)
        }
        // The lock for the caller's source comes first, for unknown names too: it tells nothing about
        // which accounts exist, and the owner logging in from elsewhere is not affected.
        if let until = state.ids.loginLock(
            username: username, source: decision.caller.source.text, now: decision.now, admin: decision.caller.isAdmin)
        {
            return fail(.throttled, .accountLocked(until: until))
        }
        if let code, !code.wellFormed {
            return fail(.malformedCode, .invalidParameter(name: "code", reason: Validation.codeRule))
        }
        guard let current = state.users[username] else { return fail(.unknownUser, .badCredentials) }
        if let until = current.lockedUntil {
            if until > decision.now { return fail(.accountLocked, .accountLocked(until: until)) }
            decision.emit(.accountUnlocked(QSMAccountUnlocked.with {
                $0.username = username
                $0.reason = .expired
            }), actor: username)
        }
        guard let verified, verified.credentialVersion == current.credentialVersion else {
            return fail(.badPassword, .badCredentials)
        }
        // The password was right: now the second factor, if the user has it on.
        var verdict = CodeVerdict.wrong
        if let factor = current.secondFactor, factor.enabled {
            guard let code else { return fail(.secondFactorRequired, .secondFactorRequired) }
            verdict = code.verdict(factor, now: decision.now)
            guard verdict != .wrong else { return fail(.badSecondFactor, .badCredentials) }
            decision.spendRecoveryCode(verdict, user: username, factor: factor, method: "Login")
        } else if code != nil {
            return fail(.secondFactorNotEnabled, .secondFactorNotEnabled)
        }
        if let rehashed = verified.rehashed {
            decision.emit(.passwordChanged(QSMPasswordChanged.with {
                $0.username = username
                $0.passwordHash = rehashed
                $0.reason = .rehash
            }), actor: username)
        }
        let expiresAt = decision.now + lifetime
        decision.emit(.loginSucceeded(QSMLoginSucceeded.with {
            $0.username = username
            $0.sessionID = sessionID
            $0.expiresAtUs = expiresAt
            $0.secondFactorStep = verdict.step
            if let sealedPrivateKey { $0.sessionPrivateKey = sealedPrivateKey }
            $0.ignoredOrigin = decision.caller.ignoredOrigin ?? ""
        }), actor: username)
        return .success(LoginResult(token: token, username: username, expiresAt: expiresAt))
    }
}

/// Logout: ends the token's session.
struct LogoutCommand: BrokerCommand {
    let token: PresentedToken

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<Void, BrokerError> {
        state.authenticate(token, method: "Logout", decision: &decision).map { user in
            decision.emit(.loggedOut(QSMLoggedOut.with {
                $0.username = user
                $0.sessionID = token.sessionID ?? Data()
            }), actor: user)
        }
    }
}

/// ChangePassword: records the new hash and rewrapped key prepared before the command was queued, if
/// the old password verified for the session's user at its current credential version.
struct ChangePasswordCommand: BrokerCommand {
    let token: PresentedToken
    let prepared: (user: String, change: PreparedPasswordChange?)?

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<Void, BrokerError> {
        let user: String
        switch state.authenticate(token, method: "ChangePassword", decision: &decision) {
        case .failure(let error): return .failure(error)
        case .success(let name): user = name
        }
        guard let prepared, prepared.user == user, let change = prepared.change,
              change.credentialVersion == state.users[user]?.credentialVersion
        else {
            decision.refuse(.loginFailed(QSMLoginFailed.with {
                $0.username = user
                $0.reason = .badPassword
            }), actor: user, state: state, always: true)
            return .failure(.badCredentials)
        }
        decision.emit(.passwordChanged(QSMPasswordChanged.with {
            $0.username = user
            $0.passwordHash = change.passwordHash
            $0.pqcPrivateKey = change.wrappedPrivateKey
            $0.reason = .user
        }), actor: user)
        return .success(())
    }
}
