@testable import Broker
import Foundation
import QSMCrypto
import QSMEvents
import SwiftProtobuf
import Testing

/// Register, Login, Logout, ChangePassword and session checks, decided in memory: given events, when a
/// command, then these events or this refusal.
@Suite("Deciders: identity and sessions")
struct IdentityDeciderTests {
    static let credentials = NewCredentials(
        passwordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", publicKey: Data([1, 2]),
        wrappedPrivateKey: QSMWrappedSecret.with { $0.keyID = "pqc/alice" })

    @Test func registerRecordsTheUserOnceAndRefusesATakenName() throws {
        var scenario = DeciderScenario()
        let (outcome, events) = scenario.when(RegisterCommand(username: "alice", credentials: Self.credentials))
        #expect(try outcome.get() == "alice")
        guard case .userRegistered(let registered)? = events.first, events.count == 1 else {
            Issue.record("expected one UserRegistered, got \(events.map(\.name))")
            return
        }
        #expect(registered.passwordHash == Self.credentials.passwordHash)
        #expect(registered.pqcPrivateKey == Self.credentials.wrappedPrivateKey)
        scenario.apply(events, actor: "alice")
        let again = scenario.when(RegisterCommand(username: "alice", credentials: Self.credentials))
        #expect(again.outcome.error == .usernameTaken("alice"))
        // Recorded with its source, for the account_farming rule (security review, issue 16 item 11).
        guard case .accessDenied(let denied)? = again.events.first, again.events.count == 1 else {
            Issue.record("expected one AccessDenied, got \(again.events.map(\.name))")
            return
        }
        #expect(denied.reason == .usernameTaken && denied.source == "uid:1000" && denied.method == "Register")
    }

    private func login(_ name: String, verified: VerifiedLogin?) -> LoginCommand {
        LoginCommand(
            username: name, verified: verified, sessionID: Data(repeating: 9, count: 32), token: "token-text",
            lifetime: 3_600_000_000)
    }

    @Test func loginSucceedsOnlyWithAPasswordVerifiedForTheCurrentCredentials() throws {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        let good = VerifiedLogin(credentialVersion: scenario.version("alice"), rehashed: nil, privateKey: nil)
        let (outcome, events) = scenario.when(login("alice", verified: good))
        #expect(try outcome.get().expiresAt == scenario.now + 3_600_000_000)
        #expect(events.map(\.name) == ["login_succeeded"])
        if case .loginSucceeded(let succeeded)? = events.first {
            #expect(succeeded.sessionID == Data(repeating: 9, count: 32))
        }

        let wrong = scenario.when(login("alice", verified: nil))
        #expect(wrong.outcome.error == .badCredentials)
        #expect(wrong.events.map(\.name) == ["login_failed"])
        if case .loginFailed(let failed)? = wrong.events.first { #expect(failed.reason == .badPassword) }

        let stale = scenario.when(login("alice", verified: VerifiedLogin(credentialVersion: scenario.version("alice") + 1, rehashed: nil, privateKey: nil)))
        #expect(stale.outcome.error == .badCredentials)

        let unknown = scenario.when(login("mallory", verified: nil))
        #expect(unknown.outcome.error == .badCredentials)
        if case .loginFailed(let failed)? = unknown.events.first { #expect(failed.reason == .unknownUser) }
    }

    @Test func aRehashIsRecordedBeforeTheSession() throws {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        let verified = VerifiedLogin(credentialVersion: scenario.version("alice"), rehashed: "$argon2id$new", privateKey: nil)
        let (outcome, events) = scenario.when(login("alice", verified: verified))
        _ = try outcome.get()
        #expect(events.map(\.name) == ["password_changed", "login_succeeded"])
        if case .passwordChanged(let changed)? = events.first {
            #expect(changed.reason == .rehash)
            #expect(changed.passwordHash == "$argon2id$new")
        }
    }

    @Test func aLockedAccountIsRefusedUntilTheLockEndsThenUnlocked() throws {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        let until = scenario.now + 60_000_000
        scenario.given(.accountLocked(QSMAccountLocked.with {
            $0.username = "alice"
            $0.untilUs = until
            $0.rule = "brute_force"
        }), actor: "alice")
        let good = VerifiedLogin(credentialVersion: scenario.version("alice"), rehashed: nil, privateKey: nil)
        let locked = scenario.when(login("alice", verified: good))
        #expect(locked.outcome.error == .accountLocked(until: until))
        if case .loginFailed(let failed)? = locked.events.first { #expect(failed.reason == .accountLocked) }
        scenario.now = until
        let after = scenario.when(login("alice", verified: good))
        _ = try after.outcome.get()
        #expect(after.events.map(\.name) == ["account_unlocked", "login_succeeded"])
    }

    @Test func logoutEndsALiveSessionAndRefusesEverythingElse() throws {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        let token = scenario.loggedIn("alice")
        let (outcome, events) = scenario.when(LogoutCommand(token: token))
        try outcome.get()
        #expect(events.map(\.name) == ["logged_out"])
        scenario.apply(events, actor: "alice")

        let revoked = scenario.when(LogoutCommand(token: token))
        #expect(revoked.outcome.error == .sessionRevoked)
        if case .accessDenied(let denied)? = revoked.events.first { #expect(denied.reason == .revokedSession) }

        let forged = scenario.when(LogoutCommand(token: PresentedToken("not a token")))
        #expect(forged.outcome.error == .noSession)
        if case .accessDenied(let denied)? = forged.events.first { #expect(denied.reason == .noSession) }
    }

    @Test func anExpiredSessionIsRecordedOnceThenRefused() {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        let token = scenario.loggedIn("alice", lifetimeSeconds: 10)
        scenario.now += 10_000_000
        let first = scenario.when(InboxCommand(token: token))
        #expect(first.outcome.error == .sessionExpired)
        #expect(first.events.map(\.name) == ["session_expired", "access_denied"])
        scenario.apply(first.events, actor: "alice")
        let second = scenario.when(InboxCommand(token: token))
        #expect(second.outcome.error == .sessionExpired)
        #expect(second.events.map(\.name) == ["access_denied"])
    }

    @Test func changePasswordNeedsTheOldPasswordForTheSessionsUser() throws {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        scenario.registered("bob")
        let token = scenario.loggedIn("alice")
        let change = PreparedPasswordChange(
            credentialVersion: scenario.version("alice"), passwordHash: "$argon2id$changed", wrappedPrivateKey: QSMWrappedSecret())
        let (outcome, events) = scenario.when(ChangePasswordCommand(token: token, prepared: ("alice", change)))
        try outcome.get()
        #expect(events.map(\.name) == ["password_changed"])

        let wrongOld = scenario.when(ChangePasswordCommand(token: token, prepared: ("alice", nil)))
        #expect(wrongOld.outcome.error == .badCredentials)
        #expect(wrongOld.events.map(\.name) == ["login_failed"])

        let otherUser = scenario.when(ChangePasswordCommand(token: token, prepared: ("bob", change)))
        #expect(otherUser.outcome.error == .badCredentials)

        scenario.apply(events, actor: "alice")
        // The password change ended the session it was made in.
        let after = scenario.when(InboxCommand(token: token))
        #expect(after.outcome.error == .sessionRevoked)
    }

    @Test func adminQueriesAreForAdministratorsAndRefusalsAreRecorded() throws {
        let scenario = DeciderScenario()
        let query = AdminQuery(method: "Alerts") { $0.position }
        let refused = scenario.when(query)
        #expect(refused.outcome.error == .notAdmin)
        if case .accessDenied(let denied)? = refused.events.first {
            #expect(denied.reason == .notAdmin)
            #expect(denied.method == "Alerts")
        }
        let admin = scenario.when(query, caller: Caller(peer: DeciderScenario.peer, isAdmin: true))
        #expect(try admin.outcome.get() == 0)
        #expect(admin.events.isEmpty)
    }
}

extension Result {
    /// The failure, or nil.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
