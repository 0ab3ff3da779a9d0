import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import QSMTesting
import Testing

/// The TOTP second factor on a broker with a real log and a hand-moved clock: enrolment, login with and
/// without a code, replay, drift, recovery codes, disabling, bad input, the intrusion detection, and the
/// factor's state after a restart and a rebuild.
@Suite("Second factor")
struct SecondFactorTests {
    /// The authenticator app: the TOTP of an otpauth URI's secret.
    struct App {
        let totp: TOTP
        let clock: TestClock

        init(uri: String, clock: TestClock) throws {
            let query = try #require(URLComponents(string: uri)?.queryItems)
            let secret = try #require(query.first { $0.name == "secret" }?.value.flatMap(Base32.decode))
            #expect(secret.count == 20, "a 160-bit secret")
            totp = TOTP(secret: SecretBytes(copying: secret))
            self.clock = clock
        }

        var step: Int64 { totp.step(atUnixSeconds: clock.micros / 1_000_000) }
        /// The code `offset` steps from now.
        func code(_ offset: Int64 = 0) -> String { totp.code(step: step + offset) }
    }

    /// Alice registered, logged in, with the factor on; her app, session token and recovery codes.
    private func enrolled(_ test: TestBroker) async throws -> (app: App, token: String, recovery: [String]) {
        let token = try await test.broker.enrol("alice", caller: Peers.alice)
        let uri = try await test.broker.startSecondFactor(token: token, caller: Peers.alice)
        let app = try App(uri: uri, clock: test.clock)
        let recovery = try await test.broker.confirmSecondFactor(token: token, code: app.code(), caller: Peers.alice)
        return (app, token, recovery)
    }

    private func login(_ test: TestBroker, password: String = "alice-password", code: String?, caller: Caller = Peers.alice)
        async -> Result<LoginResult, any Error>
    {
        await outcome { try await test.broker.login(username: "alice", password: password, code: code, caller: caller) }
    }

    private func error(_ result: Result<LoginResult, any Error>) -> BrokerError? {
        if case .failure(let error) = result { return error as? BrokerError }
        return nil
    }

    private func events(_ broker: Broker) async throws -> [QSMEvent] {
        try await broker.readEvents(from: 1, limit: 10_000, caller: Peers.admin)
    }

    /// The offline rescan with the same rules raises exactly what the broker recorded.
    private func expectRescanAgrees(_ test: TestBroker) throws {
        let report = try IDSRescan.run(store: test.broker.log, rules: test.configuration.rules)
        #expect(report.count(.recorded) > 0 && report.count(.new) == 0 && report.count(.notReproduced) == 0,
                "\(report.findings.filter { $0.status != .recorded })")
    }

    @Test func enrolmentConfirmationLoginAndReplay() async throws {
        let test = try TestBroker()
        let token = try await test.broker.enrol("alice", caller: Peers.alice)
        let uri = try await test.broker.startSecondFactor(token: token, caller: Peers.alice)
        #expect(uri.hasPrefix("otpauth://totp/qsm:alice?secret=") && uri.hasSuffix("&issuer=qsm"), "\(uri)")
        let app = try App(uri: uri, clock: test.clock)
        // Not on until confirmed: a login needs no code yet.
        #expect(error(await login(test, code: nil)) == nil)
        let wrong = app.code() == "000000" ? "111111" : "000000"
        #expect(await outcome { try await test.broker.confirmSecondFactor(token: token, code: wrong, caller: Peers.alice) }
            .failureIs(.badCredentials))
        let recovery = try await test.broker.confirmSecondFactor(token: token, code: app.code(), caller: Peers.alice)
        #expect(recovery.count == 10 && Set(recovery).count == 10)

        #expect(error(await login(test, code: nil)) == .secondFactorRequired)
        // The confirming code is spent: the same step again is a replay.
        #expect(error(await login(test, code: app.code())) == .badCredentials)
        test.clock.advance(seconds: 30)
        #expect(error(await login(test, password: "alice-wrong", code: app.code())) == .badCredentials)
        #expect(error(await login(test, code: wrong == app.code() ? "222222" : wrong)) == .badCredentials)
        #expect(error(await login(test, code: app.code())) == nil)
        #expect(error(await login(test, code: app.code())) == .badCredentials, "a code is accepted once")

        let logged = try await events(test.broker)
        let failures = logged.compactMap { event -> QSMLoginFailed.Reason? in
            if case .loginFailed(let failed) = event.body { return failed.reason } else { return nil }
        }
        #expect(failures == [.secondFactorRequired, .badSecondFactor, .badPassword, .badSecondFactor, .badSecondFactor])
        let steps = logged.compactMap { event -> Int64? in
            if case .loginSucceeded(let login) = event.body { return login.secondFactorStep } else { return nil }
        }
        #expect(steps == [0, 0, app.step])
        await test.broker.close()
    }

    @Test func driftOfOneStepEitherSideIsAcceptedAndTwoIsNot() async throws {
        let test = try TestBroker()
        let (app, _, _) = try await enrolled(test)
        test.clock.advance(seconds: 300)
        #expect(error(await login(test, code: app.code(-2))) == .badCredentials)
        #expect(error(await login(test, code: app.code(-1))) == nil)
        #expect(error(await login(test, code: app.code(2))) == .badCredentials)
        #expect(error(await login(test, code: app.code(1))) == nil)
        // The code of the current step is older than the one just used (+1): refused as a replay.
        #expect(error(await login(test, code: app.code(0))) == .badCredentials)
        await test.broker.close()
    }

    @Test func recoveryCodesAreSingleUseAndRenewable() async throws {
        let test = try TestBroker()
        let (app, token, recovery) = try await enrolled(test)
        #expect(error(await login(test, code: recovery[4])) == nil)
        #expect(error(await login(test, code: recovery[4].uppercased())) == .badCredentials, "spent")
        #expect(error(await login(test, code: recovery[5])) == nil)
        let alerts = try await test.broker.alerts(caller: Peers.admin)
        #expect(alerts.filter { $0.rule == "recovery_code_used" }.map(\.severity) == ["low"])
        #expect(test.broker.state.users["alice"]?.secondFactor?.recoveryCodesLeft == 8)

        test.clock.advance(seconds: 30)
        let renewed = try await test.broker.newRecoveryCodes(token: token, code: app.code(), caller: Peers.alice)
        #expect(renewed.count == 10 && Set(renewed).isDisjoint(with: recovery))
        #expect(error(await login(test, code: recovery[6])) == .badCredentials, "the old set no longer works")
        #expect(error(await login(test, code: renewed[0])) == nil)
        // A recovery code renews the set too, and is spent doing so.
        let again = try await test.broker.newRecoveryCodes(token: token, code: renewed[1], caller: Peers.alice)
        #expect(again.count == 10)
        let used = try await events(test.broker).compactMap { event -> String? in
            if case .recoveryCodeUsed(let used) = event.body { return "\(used.method) \(used.index) \(used.remaining)" }
            return nil
        }
        #expect(used == ["Login 4 9", "Login 5 8", "Login 0 9", "NewRecoveryCodes 1 8"])
        try expectRescanAgrees(test)
        await test.broker.close()
    }

    @Test func disablingNeedsThePasswordAndACode() async throws {
        let test = try TestBroker()
        let (app, token, _) = try await enrolled(test)
        test.clock.advance(seconds: 30)
        let code = app.code()
        let other = code == "123456" ? "654321" : "123456"
        for (password, given) in [("alice-wrong", code), ("alice-password", other)] {
            let result = await outcome {
                try await test.broker.disableSecondFactor(token: token, password: password, code: given, caller: Peers.alice)
            }
            #expect(result.failureIs(.badCredentials), "\(password) \(given)")
        }
        try await test.broker.disableSecondFactor(token: token, password: "alice-password", code: code, caller: Peers.alice)
        #expect(test.broker.state.users["alice"]?.secondFactor == nil)
        #expect(error(await login(test, code: nil)) == nil)
        #expect(error(await login(test, code: "123456")) == .secondFactorNotEnabled)
        await test.broker.close()
    }

    /// The bad input of the issue: each a declared error, each refusal in the log, no secret in any error.
    @Test func badInputIsRefusedRecordedAndTellsNothingOfTheSecret() async throws {
        let test = try TestBroker()
        let bob = try await test.broker.enrol("bob", caller: Peers.bob)
        // A code for a user without the factor, and a confirmation with nothing started.
        #expect(await outcome { try await test.broker.login(username: "bob", password: "bob-password", code: "123456", caller: Peers.bob) }
            .failureIs(.secondFactorNotEnabled))
        #expect(await outcome { try await test.broker.confirmSecondFactor(token: bob, code: "123456", caller: Peers.bob) }
            .failureIs(.secondFactorNotEnabled))
        #expect(await outcome { try await test.broker.newRecoveryCodes(token: bob, code: "123456", caller: Peers.bob) }
            .failureIs(.secondFactorNotEnabled))

        let (app, token, recovery) = try await enrolled(test)
        var errors: [BrokerError] = []
        for malformed in ["12345", "1234567", "12a456", "", "abcde-fghi", "１２３４５６"] {
            let result = await login(test, code: malformed)
            #expect(error(result) == .invalidParameter(name: "code", reason: Validation.codeRule), "\(malformed)")
            let confirm = await outcome { try await test.broker.newRecoveryCodes(token: token, code: malformed, caller: Peers.alice) }
            #expect(confirm.failureIs(.invalidParameter(name: "code", reason: Validation.codeRule)))
            errors += [error(result)].compactMap { $0 }
        }
        for (call, expected) in [
            ({ _ = try await test.broker.confirmSecondFactor(token: token, code: app.code(), caller: Peers.alice) }, BrokerError.secondFactorAlreadyEnabled),
            ({ _ = try await test.broker.startSecondFactor(token: token, caller: Peers.alice) }, .secondFactorAlreadyEnabled),
        ] as [(() async throws -> Void, BrokerError)] {
            let result = await outcome { try await call() }
            #expect(result.failureIs(expected))
            if case .failure(let error as BrokerError) = result { errors.append(error) }
        }
        // A recovery code used twice, and a clock far off (the app an hour ahead).
        #expect(error(await login(test, code: recovery[0])) == nil)
        #expect(error(await login(test, code: recovery[0])) == .badCredentials)
        #expect(error(await login(test, code: app.code(120))) == .badCredentials)

        let texts = errors.map(\.description).joined(separator: "\n") + BrokerError.badCredentials.description
        for code in recovery + [app.code()] { #expect(!texts.contains(code)) }

        let logged = try await events(test.broker)
        let loginReasons = logged.compactMap { event -> QSMLoginFailed.Reason? in
            if case .loginFailed(let failed) = event.body { return failed.reason } else { return nil }
        }
        #expect(loginReasons == [.secondFactorNotEnabled] + Array(repeating: .malformedCode, count: 6) + [.badSecondFactor, .badSecondFactor])
        let denied = logged.compactMap { event -> QSMAccessDenied.Reason? in
            if case .accessDenied(let denied) = event.body, denied.resource == "second_factor" { return denied.reason } else { return nil }
        }
        #expect(denied == [.secondFactorState, .secondFactorState] + Array(repeating: .malformedCode, count: 6)
            + [.secondFactorState, .secondFactorState])
        await test.broker.close()
    }

    /// Wrong codes after a right password: a critical alert and a lock for every source; then the owner,
    /// from another uid, is refused until it ends.
    @Test func repeatedWrongCodesLockTheAccountEverywhere() async throws {
        let test = try TestBroker()
        let (app, _, _) = try await enrolled(test)
        test.clock.advance(seconds: 60)
        let wrong = app.code() == "000000" ? "111111" : "000000"
        for _ in 0..<5 { #expect(error(await login(test, code: wrong, caller: Peers.carol)) == .badCredentials) }
        let alert = try #require(try await test.broker.alerts(caller: Peers.admin).first { $0.rule == "second_factor_guessing" })
        #expect(alert.severity == "critical" && alert.subject == "alice" && alert.evidence.count == 5)
        #expect(try await test.broker.alerts(caller: Peers.admin).allSatisfy { $0.rule != "brute_force" })
        guard case .accountLocked = error(await login(test, code: app.code(), caller: Peers.alice)) else {
            Issue.record("the owner's right code from another source is refused while the lock holds")
            return
        }
        test.clock.advance(seconds: Double(IDSRules().lockoutSeconds) + 1)
        #expect(error(await login(test, code: app.code(), caller: Peers.alice)) == nil)
        try expectRescanAgrees(test)
        await test.broker.close()
    }

    /// The factor's state (sealed secret, last step, recovery hashes) is the same live, after a restart
    /// (snapshot plus tail, and replay only) and rebuilt from position 1.
    @Test func stateIsEqualAfterRestartAndRebuild() async throws {
        var test = try TestBroker(snapshotEvery: 7)
        let (app, token, recovery) = try await enrolled(test)
        test.clock.advance(seconds: 30)
        _ = try await test.broker.login(username: "alice", password: "alice-password", code: app.code(), caller: Peers.alice)
        _ = try await test.broker.login(username: "alice", password: "alice-password", code: recovery[2], caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        #expect(await outcome { try await test.broker.startSecondFactor(token: token, caller: Peers.alice) }
            .failureIs(.secondFactorAlreadyEnabled))
        let before = test.broker.state
        #expect(before.users["alice"]?.secondFactor?.lastStep == app.step)
        #expect(try await test.broker.rebuild(caller: Peers.admin).differences.isEmpty)
        try await test.restart()
        #expect(test.broker.state.users == before.users)
        #expect(try test.broker.state.digests() == before.digests())
        #expect(error(await login(test, code: app.code())) == .badCredentials, "the replay is still refused after a restart")
        await test.broker.close()
    }
}

extension Result where Failure == any Error {
    /// Whether this failed with the broker error `expected`.
    func failureIs(_ expected: BrokerError) -> Bool {
        if case .failure(let error) = self { return error as? BrokerError == expected }
        return false
    }
}
