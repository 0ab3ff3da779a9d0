import Foundation
import QRCode
import QSMCrypto
import QSMClient
import QSMTesting
import Testing

/// The second factor as a user meets it: `qsm mfa enable` on a terminal (QR code, URI, first code,
/// recovery codes), `qsm login` asking for the code, --password-stdin's second line and --code, the
/// other mfa commands, and the QR code read back by a real decoder.
@Suite("qsm: second factor")
struct SecondFactorCLITests {
    private func environment(_ daemon: Daemon, home: String) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "QSM_HOME": home, "HOME": home, "TERM": "xterm", "QSM_SOCKET": daemon.socket]
    }

    /// The code an authenticator app holding `uri`'s secret shows `offset` steps from now.
    private func code(_ uri: String, offset: Int64 = 0) throws -> String {
        let secret = try #require(URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value)
        let totp = TOTP(secret: SecretBytes(copying: try #require(Base32.decode(secret))))
        return totp.code(step: totp.step(atUnixSeconds: Int64(Date().timeIntervalSince1970)) + offset)
    }

    @Test func enableOnATerminalThenLoginAsksForTheCode() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)

        let enable = try Terminal(Products.qsm, ["mfa", "enable"], environment: environment(daemon, home: home))
        #expect(try await enable.waitFor("First code from the app: "), "\(enable.output)")
        #expect(enable.output.contains("\u{2580}"), "a QR code in half blocks: \(enable.output)")
        let uri = try #require(enable.output.split(whereSeparator: \.isNewline).map(String.init)
            .first { $0.hasPrefix("otpauth://totp/qsm:alice?secret=") }?.trimmingCharacters(in: .whitespacesAndNewlines))
        enable.type(try code(uri) + "\n")
        #expect(try await enable.wait() == 0, "\(enable.output)")
        let recovery = enable.output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.count == 11 && $0.dropFirst(5).first == "-" }
        #expect(recovery.count == 10, "\(enable.output)")

        // qsm login asks for the code only after the password, and only because the account has the factor.
        let login = try Terminal(Products.qsm, ["login", "alice"], environment: environment(daemon, home: home))
        #expect(try await login.waitFor("Password for alice: "))
        login.type("alice-password\n")
        #expect(try await login.waitFor("Code from the authenticator app (or a recovery code): "), "\(login.output)")
        // The next step's code (within the one step of drift allowed): this step's was spent enrolling.
        login.type(try code(uri, offset: 1) + "\n")
        #expect(try await login.wait() == 0, "\(login.output)")
        #expect(login.output.contains("logged in as alice"), "\(login.output)")

        // A wrong code on the terminal: one line, no hint which of password and code was wrong.
        let wrong = try Terminal(Products.qsm, ["login", "alice"], environment: environment(daemon, home: home))
        #expect(try await wrong.waitFor("Password for alice: "))
        wrong.type("alice-password\n")
        #expect(try await wrong.waitFor("Code from the authenticator app"))
        wrong.type("000000\n")
        #expect(try await wrong.wait() == 1)
        #expect(wrong.output.contains("qsm: wrong password or code"), "\(wrong.output)")

        // Scripts: the code as the second line of --password-stdin, or --code (recovery codes here: the
        // TOTP codes of this step and the next are spent).
        let (piped, _, pipedError) = try await daemon.qsm(
            ["login", "alice", "--password-stdin"], input: "alice-password\n" + recovery[2], home: home)
        #expect(piped == 0, "\(pipedError)")
        let (noCode, _, noCodeError) = try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home)
        #expect(noCode == 64 && noCodeError.contains("no line for the second-factor code"), "\(noCodeError)")
        let (flag, _, flagError) = try await daemon.qsm(["login", "alice", "--password-stdin", "--code", recovery[0]], input: "alice-password", home: home)
        #expect(flag == 0, "\(flagError)")
        let (spent, _, spentError) = try await daemon.qsm(["login", "alice", "--password-stdin", "--code", recovery[0]], input: "alice-password", home: home)
        #expect(spent == 1 && spentError.contains("wrong username, password or code"), "\(spentError)")
        let (malformed, _, malformedError) = try await daemon.qsm(["login", "alice", "--code", "12ab"], home: home)
        #expect(malformed == 64 && malformedError.hasPrefix("qsm: --code: a code is the 6 digits"), "\(malformedError)")

        // New recovery codes, then off: a login needs no code any more.
        let (renewed, renewedOut, renewedError) = try await daemon.qsm(["--json", "mfa", "recovery-codes", "--code", recovery[1]], home: home)
        #expect(renewed == 0, "\(renewedError)")
        let codes = try #require(JSONSerialization.jsonObject(with: Data(renewedOut.utf8)) as? [String: Any])["recoveryCodes"] as? [String]
        #expect(codes?.count == 10)
        let (off, _, offError) = try await daemon.qsm(["mfa", "disable", "--password-stdin"], input: "alice-password\n" + (codes?[0] ?? ""), home: home)
        #expect(off == 0, "\(offError)")
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)

        // For scripts: the URI as the first line, the code read from standard input, JSON after.
        let bobHome = daemon.directory.appending("bob")
        #expect(try await daemon.qsm(["register", "bob", "--password-stdin"], input: "bob-password", home: bobHome).0 == 0)
        #expect(try await daemon.qsm(["login", "bob", "--password-stdin"], input: "bob-password", home: bobHome).0 == 0)
        let (noTerminal, _, noTerminalError) = try await daemon.qsm(["mfa", "enable"], home: bobHome)
        #expect(noTerminal == 64 && noTerminalError.contains("use --code-stdin"), "\(noTerminalError)")
        let script = try Terminal(Products.qsm, ["--json", "mfa", "enable", "--code-stdin"], environment: environment(daemon, home: bobHome))
        #expect(try await script.waitFor("&issuer=qsm"), "\(script.output)")
        let bobURI = try #require(script.output.split(whereSeparator: \.isNewline).first.map(String.init))
        #expect(bobURI.hasPrefix("otpauth://totp/qsm:bob?secret="), "\(script.output)")
        script.type(try code(bobURI) + "\n")
        #expect(try await script.wait() == 0, "\(script.output)")
        #expect(script.output.contains("\"recoveryCodes\"") && !script.output.contains("\u{2580}"), "\(script.output)")
        #expect(try await daemon.stop() == 0)
    }

    /// A wrong code costs qsmd what a wrong password does (an Argon2id verification at the default cost), so
    /// the time of a refusal tells neither which was wrong nor lets codes be tried faster than passwords.
    /// Measured as qsmd's own CPU time (as SecurityTests measures unknown users), the work, not the wall
    /// clock a loaded machine stretches.
    @Test func aWrongCodeCostsAsMuchWorkAsAWrongPassword() async throws {
        let rules = try TemporaryDirectory(prefix: "qsm-rules")
        let rulesFile = rules.appending("rules.json")
        try Data(#"{"bruteForce": {"count": 0, "windowSeconds": 600}, "secondFactorFailures": {"count": 0, "windowSeconds": 600}}"#.utf8)
            .write(to: URL(fileURLWithPath: rulesFile))
        let daemon = try await Daemon(settings: ["rulesFile": rulesFile])
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let token = try await client.registerAndLogin("dave")
        let uri = try await client.call(BrokerAPI.StartSecondFactor(token: token)).uri
        _ = try await client.call(BrokerAPI.ConfirmSecondFactor(token: token, code: try code(uri)))
        func cpuTicks() throws -> Int {
            let stat = try String(contentsOfFile: "/proc/\(daemon.process.pid)/stat", encoding: .utf8)
            let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
            return try #require(Int(fields[11])) + #require(Int(fields[12]))
        }
        let wrongCode = try code(uri, offset: 5)  // a real code of the secret, far outside the window
        var work = [0, 0]
        for _ in 0..<24 {
            for (kind, password) in [(0, "wrong-password"), (1, "dave-password")] {
                let ticks = try cpuTicks()
                let reply = await Outcome.of(client, BrokerAPI.Login(username: "dave", password: password, code: wrongCode))
                work[kind] += try cpuTicks() - ticks
                #expect(reply.error == "io.qsm.Broker.AuthenticationFailed", "\(reply.error ?? "success")")
            }
        }
        print("24 refusals each: qsmd CPU \(work[0]) ticks for a wrong password, \(work[1]) for a wrong code")
        #expect(work[0] >= 24, "a wrong password costs an Argon2id verification (\(work[0]) ticks for 24)")
        // One Argon2id run each; a second (unwrapping the pqc key after a right password) doubled the
        // wrong code's work before it was skipped.
        #expect(Double(work[1]) <= Double(work[0]) * 1.5 && Double(work[0]) <= Double(work[1]) * 1.5,
                "wrong code \(work[1]) ticks, wrong password \(work[0])")
        #expect(try await daemon.stop() == 0)
    }

    /// The enrolment URI qsmd hands out, drawn as SVG, rendered to PNG by librsvg and decoded by zbar:
    /// the same URI. The terminal drawing holds the same modules.
    @Test func theQRCodeReadsBackAsTheURI() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let token = try await client.registerAndLogin("alice")
        let uri = try await client.call(BrokerAPI.StartSecondFactor(token: token)).uri
        #expect(try await daemon.stop() == 0)

        let qr = try QRCode(encoding: uri)
        let svg = daemon.directory.appending("qr.svg")
        let png = daemon.directory.appending("qr.png")
        try Data(qr.svg().utf8).write(to: URL(fileURLWithPath: svg))
        let (rendered, _, renderError) = try await ChildProcess.run("/usr/bin/rsvg-convert", ["-w", "400", "-o", png, svg])
        #expect(rendered == 0, "\(renderError)")
        let (decoded, lines, decodeError) = try await ChildProcess.run("/usr/bin/zbarimg", ["--quiet", "--raw", png])
        #expect(decoded == 0, "\(decodeError)")
        #expect(lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) == uri)

        // The terminal text: two module rows a line; the upper half's colour is the foreground (30 dark).
        let quiet = 2
        let cells = qr.terminalText(quietZone: quiet).split(separator: "\n").map { line in
            line.split(separator: "\u{2580}").dropLast().map { $0.contains("[30;") }
        }
        #expect(cells.count == (qr.size + 2 * quiet + 1) / 2)
        for row in 0..<qr.size where row % 2 == 0 {
            let line = cells[(row + quiet) / 2]
            #expect((0..<qr.size).allSatisfy { line[$0 + quiet] == qr.isDark(row: row, column: $0) }, "row \(row)")
        }
    }
}
