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
    /// wrapped under a key derived from the password.
    public func register(username: String, password: String, caller: Caller) async throws(BrokerError) -> String {
        try Validation.username(username)
        try Validation.password(password, configuration: configuration)
        if read({ $0.users[username] != nil }) { throw .usernameTaken(username) }
        let credentials = try await crypto.newCredentials(username: username, password: password)
        return try await pipeline.submit(caller) { state, decision in
            guard state.users[username] == nil else { return .failure(.usernameTaken(username)) }
            decision.emit(.userRegistered(QSMUserRegistered.with {
                $0.username = username
                $0.passwordHash = credentials.passwordHash
                $0.pqcPublicKey = credentials.publicKey
                $0.pqcPrivateKey = credentials.wrappedPrivateKey
            }), actor: username)
            return .success(username)
        }.get()
    }

    /// Logs `username` in: checks the lockout, verifies the password, rehashes it if its cost is below
    /// the configured one, unwraps the pqc private key into memory, and starts a session.
    public func login(username: String, password: String, caller: Caller) async throws(BrokerError) -> LoginResult {
        try Validation.username(username)
        guard password.utf8.count <= configuration.maxPasswordBytes else {
            throw .invalidParameter(name: "password", reason: "at most \(configuration.maxPasswordBytes) bytes")
        }
        let now = configuration.clock()
        let user = read { $0.users[username] }
        // Work before deciding: verification only when the account exists and is not locked.
        var verified: VerifiedLogin?
        var passwordOK = false
        if let user, (user.lockedUntil ?? .min) <= now {
            if let login = try await crypto.verifyLogin(username: username, password: password, user: user) {
                verified = login
                passwordOK = true
            }
        } else if user == nil {
            crypto.equalizeTiming(password: password)
        }
        let verifiedLogin = verified
        let passwordVerified = passwordOK
        let token = SessionToken()
        let sessionID = token.sessionID
        let lifetime = configuration.sessionLifetimeSeconds * 1_000_000
        let result = await pipeline.submit(caller) { state, decision -> Result<LoginResult, BrokerError> in
            func fail(_ reason: QSMLoginFailed.Reason, _ error: BrokerError) -> Result<LoginResult, BrokerError> {
                decision.emit(.loginFailed(QSMLoginFailed.with {
                    $0.username = username
                    $0.reason = reason
                }), actor: username)
                return .failure(error)
            }
            guard let current = state.users[username] else { return fail(.unknownUser, .badCredentials) }
            if let until = current.lockedUntil {
                if until > decision.now { return fail(.accountLocked, .accountLocked(until: until)) }
                decision.emit(.accountUnlocked(QSMAccountUnlocked.with {
                    $0.username = username
                    $0.reason = .expired
                }), actor: username)
            }
            guard passwordVerified, let verified = verifiedLogin, verified.credentialVersion == current.credentialVersion else {
                return fail(.badPassword, .badCredentials)
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
            }), actor: username)
            return .success(LoginResult(token: token.transportEncoding, username: username, expiresAt: expiresAt))
        }
        let login = try result.get()
        if let key = verified?.privateKey { sessionKeys.withLock { $0[sessionID.hex] = key } }
        return login
    }

    /// Ends the session of `token`.
    public func logout(token: String, caller: Caller) async throws(BrokerError) {
        let presented = PresentedToken(token)
        try await pipeline.submit(caller) { state, decision -> Result<Void, BrokerError> in
            state.authenticate(presented, method: "Logout", decision: &decision).map { user in
                decision.emit(.loggedOut(QSMLoggedOut.with {
                    $0.username = user
                    $0.sessionID = presented.sessionID ?? Data()
                }), actor: user)
            }
        }.get()
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
        try await pipeline.submit(caller) { state, decision -> Result<Void, BrokerError> in
            let user: String
            switch state.authenticate(presented, method: "ChangePassword", decision: &decision) {
            case .failure(let error): return .failure(error)
            case .success(let name): user = name
            }
            guard let prepared, prepared.user == user, let change = prepared.change,
                  change.credentialVersion == state.users[user]?.credentialVersion
            else {
                decision.emit(.loginFailed(QSMLoginFailed.with {
                    $0.username = user
                    $0.reason = .badPassword
                }), actor: user)
                return .failure(.badCredentials)
            }
            decision.emit(.passwordChanged(QSMPasswordChanged.with {
                $0.username = user
                $0.passwordHash = change.passwordHash
                $0.pqcPrivateKey = change.wrappedPrivateKey
                $0.reason = .user
            }), actor: user)
            return .success(())
        }.get()
        // The projection ended every session of the user; drop their private keys too.
        if let user = prepared?.user {
            let ids = read { state in state.sessions.sessions.filter { $0.value.username == user }.map(\.key) }
            sessionKeys.withLock { keys in for id in ids { keys[id] = nil } }
        }
    }
}
