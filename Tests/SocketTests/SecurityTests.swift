import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import QSMClient
import QSMTesting
import Testing

/// The security review of issue 9, over a real qsmd: who may call what, secrets compared in constant time,
/// no secret in qsmd's output, file modes, and sessions that end when they should.
@Suite("Security review")
struct SecurityTests {
    // MARK: - Authorization matrix

    /// Every io.qsm.Broker and io.qsm.Admin method, called by the owner, another user, no session, an
    /// expired session, an ended (logged out) session, root (an administrator) and nobody (uid 65534, not
    /// an administrator). Each cell names the expected answer; refusals must be recorded as AccessDenied.
    @Test func authorizationMatrix() async throws {
        let lifetime = 5
        let daemon = try await Daemon(settings: cheapSettings(["sessionLifetimeSeconds": lifetime, "socketMode": "0666"]))
        let root = try await QSMConnection.connect(socketPath: daemon.socket)
        _ = try await root.registerAndLogin("alice")
        _ = try await root.registerAndLogin("bob")
        // Sessions of alice that must be refused: one that expires, one that was ended by Logout.
        let expired = try await root.login("alice")
        // Issued after `expired`, so it expires no earlier: once qsmd calls it expired, `expired` is too.
        let probe = try await root.login("alice")
        let ended = try await root.login("alice")
        _ = try await root.call(BrokerAPI.Logout(token: ended))
        // A message from carol to alice (pqc needs no key exchange); bob, neither its sender nor its
        // recipient, may not read it.
        let carolToken = try await root.registerAndLogin("carol")
        let messageID = try await root.call(BrokerAPI.Send(token: carolToken, to: "alice", body: "for alice only", mode: "pqc")).messageId
        let unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"  // well-formed, never issued
        // Wait for the expiry itself (qsmd's answer), not for a time.
        let bound = ContinuousClock.now + .seconds(lifetime + 60)
        var probeOutcome = await Outcome.of(root, BrokerAPI.Inbox(token: probe))
        while probeOutcome.error == nil && ContinuousClock.now < bound {
            try await Task.sleep(for: .milliseconds(100))
            probeOutcome = await Outcome.of(root, BrokerAPI.Inbox(token: probe))
        }
        try #require(probeOutcome.error == "io.qsm.Broker.InvalidSession" && probeOutcome.reason == "expired",
                     "a \(lifetime) s session did not expire within \(lifetime + 60) s: \(probeOutcome)")

        /// Each token method for a session `token`.
        func brokerCalls(_ token: String) -> [(String, any QSMRequest)] {
            [
                ("Logout", BrokerAPI.Logout(token: token)),
                ("ChangePassword", BrokerAPI.ChangePassword(token: token, oldPassword: "alice-password", newPassword: "alice-password-2")),
                ("Send", BrokerAPI.Send(token: token, to: "bob", body: "hello", mode: "aes")),
                ("Inbox", BrokerAPI.Inbox(token: token)),
                ("Decrypt", BrokerAPI.Decrypt(token: token, messageId: messageID)),
                ("History", BrokerAPI.History(token: token)),
                ("Dashboard", BrokerAPI.Dashboard(token: token)),
                ("WatchDashboard", BrokerAPI.WatchDashboard(token: token)),
                ("StartSecondFactor", BrokerAPI.StartSecondFactor(token: token)),
                // Last: BB84 takes a while, and nobody's batch must finish within the sessions' lifetime.
                ("EstablishKey", BrokerAPI.EstablishKey(token: token, peer: "bob", qubits: 60_000)),
            ]
        }
        var failures: [String] = []
        func expect(_ cell: String, _ outcome: Outcome, _ wanted: String?, reason: String? = nil) {
            if outcome.error != wanted || (reason != nil && outcome.reason != reason) {
                failures.append("\(cell): wanted \(wanted ?? "success")\(reason.map { " (\($0))" } ?? ""), got \(outcome)")
            }
        }

        // Columns without a live session: the same answer for every token method, on a fresh connection each
        // (a streaming call keeps its connection).
        for (column, token, reason) in [("no session", unknown, "no session"), ("empty token", "", nil),
                                        ("expired session", expired, "expired"), ("ended session", ended, "ended")] {
            for (method, request) in brokerCalls(token) {
                let client = try await QSMConnection.connect(socketPath: daemon.socket)
                let outcome = await Outcome.of(client, request)
                await client.close()
                if token.isEmpty {
                    // An empty token is malformed input or no session; never a success.
                    if outcome.error == nil { failures.append("\(method) × empty token: succeeded") }
                } else {
                    expect("\(method) × \(column)", outcome, "io.qsm.Broker.InvalidSession", reason: reason)
                }
            }
        }

        // The second factor's calls that take a code (the owner's success needs a live code: SecondFactorTests).
        for (column, token, reason) in [("no session", unknown, "no session"), ("expired session", expired, "expired"),
                                        ("ended session", ended, "ended")] {
            let calls: [(String, any QSMRequest)] = [
                ("ConfirmSecondFactor", BrokerAPI.ConfirmSecondFactor(token: token, code: "123456")),
                ("DisableSecondFactor", BrokerAPI.DisableSecondFactor(token: token, password: "alice-password", code: "123456")),
                ("NewRecoveryCodes", BrokerAPI.NewRecoveryCodes(token: token, code: "123456")),
            ]
            for (method, request) in calls {
                let client = try await QSMConnection.connect(socketPath: daemon.socket)
                expect("\(method) × \(column)", await Outcome.of(client, request), "io.qsm.Broker.InvalidSession", reason: reason)
                await client.close()
            }
        }

        // Another user's session (bob's): his own data only, never alice's message.
        do {
            let client = try await QSMConnection.connect(socketPath: daemon.socket)
            let bob = try await client.login("bob")
            expect("Decrypt × other user", await Outcome.of(client, BrokerAPI.Decrypt(token: bob, messageId: messageID)),
                   "io.qsm.Broker.AccessDenied")
            let listed = try await client.call(BrokerAPI.Inbox(token: bob)).messages.map(\.messageId)
            if listed.contains(messageID) { failures.append("Inbox × other user lists alice's message") }
            expect("History × other user", await Outcome.of(client, BrokerAPI.History(token: bob)), nil)
            expect("ChangePassword × other user (alice's password on bob's session)",
                   await Outcome.of(client, BrokerAPI.ChangePassword(token: bob, oldPassword: "alice-password", newPassword: "stolen-password")),
                   "io.qsm.Broker.AuthenticationFailed")
            await client.close()
            // root is an administrator, which gives no access to message contents.
        }

        // The owner: every method succeeds, as root and as nobody (the uid does not matter to io.qsm.Broker).
        for (method, _) in brokerCalls("") {
            let client = try await QSMConnection.connect(socketPath: daemon.socket)
            let token = try await client.login("alice")
            let request = brokerCalls(token).first { $0.0 == method }!.1
            expect("\(method) × owner (root)", await Outcome.of(client, request), nil)
            if method == "ChangePassword" {
                let again = try await QSMConnection.connect(socketPath: daemon.socket)
                _ = try await again.call(BrokerAPI.ChangePassword(
                    token: try await again.login("alice", password: "alice-password-2"), oldPassword: "alice-password-2",
                    newPassword: "alice-password"))
                await again.close()
            }
            await client.close()
        }

        // Admin methods as root: answered.
        let adminCalls: [(String, any QSMRequest)] = [
            ("Alerts", AdminAPI.Alerts()), ("WatchAlerts", AdminAPI.WatchAlerts()), ("ReadEvents", AdminAPI.ReadEvents(from: 1, limit: 5)),
            ("VerifyChain", AdminAPI.VerifyChain()), ("Rebuild", AdminAPI.Rebuild()), ("Stats", AdminAPI.Stats()),
        ]
        for (method, request) in adminCalls where method != "WatchAlerts" {
            let client = try await QSMConnection.connect(socketPath: daemon.socket)
            expect("\(method) × admin (root)", await Outcome.of(client, request), nil)
            await client.close()
        }

        // nobody: the owner's calls succeed; every admin method is refused. nobody's client is Python run as
        // uid 65534, given each call as the JSON the typed request encodes to.
        var nobodyCalls: [[String: Any]] = []
        func nobodyCall(_ request: any QSMRequest, expect: String?) throws -> [String: Any] {
            [
                "method": type(of: request).method, "parameters": try JSONSerialization.jsonObject(with: JSONEncoder().encode(request)),
                "more": request is any QSMStreamingRequest, "expect": expect ?? NSNull(),
            ]
        }
        for (method, _) in brokerCalls("") where method != "ChangePassword" {
            let token = try await root.login("alice")
            nobodyCalls.append(try nobodyCall(brokerCalls(token).first { $0.0 == method }!.1, expect: nil))
        }
        nobodyCalls.append(try nobodyCall(
            BrokerAPI.Decrypt(token: try await root.login("bob"), messageId: messageID), expect: "io.qsm.Broker.AccessDenied"))
        nobodyCalls.append(try nobodyCall(BrokerAPI.Inbox(token: expired), expect: "io.qsm.Broker.InvalidSession"))
        for (_, request) in adminCalls {
            nobodyCalls.append(try nobodyCall(request, expect: "org.varlink.service.PermissionDenied"))
        }
        // Permission is checked before parameters: bad ones get PermissionDenied too, and are recorded.
        let badAdminCalls: [(String, any QSMRequest)] = [
            ("ReadEvents", AdminAPI.ReadEvents(from: 0)), ("Alerts", AdminAPI.Alerts(limit: -1)),
            ("Rebuild", AdminAPI.Rebuild(projection: "nope")),
        ]
        for (_, request) in badAdminCalls {
            nobodyCalls.append(try nobodyCall(request, expect: "org.varlink.service.PermissionDenied"))
        }
        let results = try await callAsNobody(daemon, nobodyCalls)
        #expect(results.count == nobodyCalls.count, "nobody's client answered every call: \(results)")
        for (call, result) in zip(nobodyCalls, results) {
            let wanted = call["expect"] as? String
            let got = result["error"] as? String
            if got != wanted { failures.append("\(call["method"]!) × nobody: wanted \(wanted ?? "success"), got \(got ?? "success") \(result)") }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")

        // The log records every refusal: not-owner for bob and for nobody, each kind of session refusal, and a
        // not-admin refusal with nobody's uid for every admin method.
        #expect(try await daemon.stop() == 0)
        let denials: [(QSMAccessDenied, UInt32)] = try readLog(daemon.data).events.compactMap { event in
            guard case .accessDenied(let denied)? = event.body else { return nil }
            return (denied, event.peer.uid)
        }
        let notAdmin = denials.filter { $0.0.reason == .notAdmin && $0.1 == 65534 }.map(\.0.method)
        for (method, _) in adminCalls where method != "WatchAlerts" {
            #expect(notAdmin.contains { $0.hasSuffix(method) }, "no AccessDenied(not admin) for nobody's \(method): \(notAdmin)")
        }
        // WatchAlerts is refused through the Alerts check it starts with (the event names "Alerts").
        #expect(notAdmin.filter { $0.hasSuffix("Alerts") }.count >= 2, "Alerts and WatchAlerts each recorded: \(notAdmin)")
        #expect(notAdmin.count >= adminCalls.count + badAdminCalls.count, "bad-parameter refusals recorded too: \(notAdmin)")
        for (method, _) in badAdminCalls {
            #expect(notAdmin.filter { $0.hasSuffix(method) }.count >= 2, "nobody's bad \(method) recorded: \(notAdmin)")
        }
        #expect(denials.filter { $0.0.reason == .notOwner }.count >= 2, "bob's and nobody's reads of alice's message")
        for reason in [QSMAccessDenied.Reason.noSession, .expiredSession, .revokedSession] {
            #expect(denials.filter { $0.0.reason == reason }.count >= 9, "every token method's \(reason) refusal is recorded")
        }
    }

    /// Runs `calls` as uid nobody with Debian's python3 (a tiny Varlink client written into the test's
    /// directory, which nobody can read); one result object per call.
    private func callAsNobody(_ daemon: Daemon, _ calls: [[String: Any]]) async throws -> [[String: Any]] {
        let script = daemon.directory.appending("nobody_calls.py")
        let input = daemon.directory.appending("nobody_calls.json")
        try Self.nobodyClient.write(toFile: script, atomically: true, encoding: .utf8)
        try JSONSerialization.data(withJSONObject: ["socket": daemon.socket, "calls": calls]).write(to: URL(fileURLWithPath: input))
        chmod(script, 0o644)
        chmod(input, 0o644)
        let (status, lines, stderr) = try await ChildProcess.run(
            "/usr/bin/setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
             "/usr/bin/python3", script, input])
        #expect(status == 0, "nobody's client: \(stderr)")
        let data = Data((lines.last ?? "[]").utf8)
        return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    }

    private static let nobodyClient = #"""
        import json, os, socket, sys
        spec = json.load(open(sys.argv[1]))
        assert os.getuid() == 65534, os.getuid()
        results = []
        for call in spec["calls"]:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(60)
            s.connect(spec["socket"])
            message = {"method": call["method"], "parameters": call["parameters"]}
            if call["more"]:
                message["more"] = True
            s.sendall(json.dumps(message).encode() + b"\0")
            data = b""
            while b"\0" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            results.append(json.loads(data.split(b"\0", 1)[0]) if b"\0" in data else {"error": "closed"})
        print(json.dumps(results))
        """#

    // MARK: - Sessions

    /// A token is refused after its Logout, and every session of a user is refused after a password change
    /// (the old password too); the other sessions and the new password work.
    @Test func sessionTokensEndWithLogoutAndPasswordChange() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let first = try await client.registerAndLogin("carol")
        let second = try await client.login("carol")
        let third = try await client.login("carol")
        _ = try await client.call(BrokerAPI.Logout(token: first))
        let afterLogout = await Outcome.of(client, BrokerAPI.Inbox(token: first))
        #expect(afterLogout.error == "io.qsm.Broker.InvalidSession" && afterLogout.reason == "ended")
        #expect(await Outcome.of(client, BrokerAPI.Logout(token: first)).error == "io.qsm.Broker.InvalidSession")
        #expect(await Outcome.of(client, BrokerAPI.Inbox(token: second)).error == nil, "another session goes on")

        _ = try await client.call(BrokerAPI.ChangePassword(token: second, oldPassword: "carol-password", newPassword: "carol-new-password"))
        for token in [second, third] {
            let reply = await Outcome.of(client, BrokerAPI.Inbox(token: token))
            #expect(reply.error == "io.qsm.Broker.InvalidSession", "a session from before the password change: \(reply.detail)")
            #expect(await Outcome.of(client, BrokerAPI.Send(token: token, to: "carol", body: "x")).error
                    == "io.qsm.Broker.InvalidSession")
        }
        #expect(await Outcome.of(client, BrokerAPI.Login(username: "carol", password: "carol-password")).error
                == "io.qsm.Broker.AuthenticationFailed")
        let fresh = try await client.login("carol", password: "carol-new-password")
        #expect(await Outcome.of(client, BrokerAPI.Inbox(token: fresh)).error == nil)
        // And after a restart (sessions are projections of the log) the ended ones stay ended.
        #expect(try await daemon.stop() == 0)
        let again = try await Daemon(directory: daemon.directory, settings: cheapSettings())
        let after = try await QSMConnection.connect(socketPath: again.socket)
        for token in [first, second, third] {
            #expect(await Outcome.of(after, BrokerAPI.Inbox(token: token)).error == "io.qsm.Broker.InvalidSession")
        }
        #expect(await Outcome.of(after, BrokerAPI.Inbox(token: fresh)).error == nil)
        #expect(try await again.stop() == 0)
    }

    // MARK: - Constant-time comparison

    /// Tags, MACs, tokens and password hashes are compared only through libsodium (sodium_memcmp,
    /// crypto_pwhash_str_verify): a scan of Sources for `==` or `!=` on anything secret-looking finds only
    /// the comparisons listed here, each with the reason it is not a secret comparison. That sodium_memcmp
    /// itself takes the same time wherever the bytes differ is `tools/bench consttime`'s measurement.
    @Test func secretsAreComparedInConstantTime() throws {
        let sources = Products.packageRoot + "/Sources"
        let sodium = try String(contentsOfFile: sources + "/QSMCrypto/Sodium.swift", encoding: .utf8)
        #expect(sodium.contains("sodium_memcmp("), "Sodium.constantTimeEqual is libsodium's sodium_memcmp")
        // Each place that checks a secret goes through it (or through libsodium's own verifier).
        let mustUse: [(String, String)] = [
            ("QSMCrypto/Poly1305.swift", "constantTimeEqual"), ("QSMCrypto/OTPCipher.swift", "constantTimeEqual"),
            ("QSMCrypto/SessionToken.swift", "ConstantTime.equal"), ("QSMCrypto/ConstantTime.swift", "Sodium.constantTimeEqual"),
            ("QSMCrypto/PasswordHasher.swift", "crypto_pwhash_str_verify"),
        ]
        for (file, call) in mustUse {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            #expect(text.contains(call), "\(file) checks its secret with \(call)")
        }
        // Allowed `==` near secret-sounding names, and why.
        let allowed: [(file: String, fragment: String)] = [
            // BB84 key confirmation inside the simulation: both keys are in this process; no attacker times it.
            ("QKD/BB84.swift", "confirmation.hash(estimate.aliceKey) == confirmation.hash(cascade.corrected)"),
            // The CLI's "type it again" check of a new password the user just typed, in the user's own process.
            ("qsm/Client/IdentityCommands.swift", #"PasswordInput.read(prompt: "Again: ", fromStdin: false) == password"#),
        ]
        let secretWord = try Regex(#"(?i)(tag|mac\b|token|password|passwd|secret|privatekey|masterkey|sessionid|nonce|pad\b)"#)
        let comparison = try Regex(#"[^=!<>]==[^=]|!=[^=]"#)
        var findings: [String] = []
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String } ?? []
        for file in files where file.hasSuffix(".swift") && !file.contains("Generated") && !file.contains(".pb.swift") {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                guard code.contains(comparison), code.contains(secretWord) else { continue }
                if allowed.contains(where: { file.hasSuffix($0.file) && code.contains($0.fragment) }) { continue }
                if try Self.harmless(code, secretWord: secretWord) { continue }
                findings.append("\(file):\(number + 1): \(code.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(findings.isEmpty, "comparisons of secrets outside sodium_memcmp:\n\(findings.joined(separator: "\n"))")
        // The scan can fail: lines comparing secret bytes with == are found, also beside a harmless comparison.
        for planted in [
            "        guard expectedTag == sealed.tag else { throw error }", "guard tagBytes == expectedBytes else { return false }",
            "if token.sessionID != storedSessionID { throw error }", "guard nonce != nil, macSize == expectedMacSize, tag == mac else {",
        ] {
            let found = planted.contains(comparison) && planted.contains(secretWord)
            #expect(try found && !Self.harmless(planted, secretWord: secretWord), "\(planted)")
        }
    }

    /// Whether `number` occurs in `bytes` with no digit right before or after it.
    private static func containsNumber(_ number: String, in bytes: Data) -> Bool {
        let needle = Data(number.utf8)
        var start = bytes.startIndex
        while let range = bytes.range(of: needle, in: start..<bytes.endIndex) {
            let before = range.lowerBound > bytes.startIndex ? bytes[range.lowerBound - 1] : 0
            let after = range.upperBound < bytes.endIndex ? bytes[range.upperBound] : 0
            if !(48...57).contains(before) && !(48...57).contains(after) { return true }
            start = range.lowerBound + 1
        }
        return false
    }

    /// Whether every `==` and `!=` on the line compares no secret bytes: each is judged by its own two
    /// operands (not by anything else on the line), and is harmless when it compares with nil, an enum case or
    /// a literal, when either operand is a count, length, reason, algorithm, counter or range list, or when
    /// neither operand names a secret.
    private static func harmless(_ code: String, secretWord: Regex<AnyRegexOutput>) throws -> Bool {
        let operands = try Regex(#"([\w.\[\]()?!]*)\s*(?:==|!=)\s*([\w.\[\]()?"]*)"#)
        let literal = try Regex(#"^(nil|\.\w+\)*$|\.\w+\(|\d|")"#)
        let notSecret = try Regex(#"(?i)(count|length|reason|algorithm|counter|ranges|kind|mode)\W*$"#)
        for match in code.matches(of: operands) {
            let (left, right) = (String(code[match.output[1].range!]), String(code[match.output[2].range!]))
            if right.contains(literal) || left.hasSuffix("nil") { continue }
            if left.contains(notSecret) || right.contains(notSecret) { continue }
            if !left.contains(secretWord) && !right.contains(secretWord) { continue }
            return false
        }
        return true
    }

    /// The same answer for an unknown user as for a wrong password, and the same work behind it: the broker
    /// hashes a dummy password at the same Argon2id cost, so user enumeration by timing does not work.
    /// Measured as qsmd's own CPU time per login (from /proc), the work done, not as the wall-clock time a
    /// loaded machine stretches; wall-clock medians are printed. Default cost.
    @Test func unknownUsersCostAsMuchWorkAsWrongPasswords() async throws {
        let rules = try TemporaryDirectory(prefix: "qsm-rules")
        let rulesFile = rules.appending("rules.json")
        try Data(#"{"bruteForce": {"count": 0, "windowSeconds": 600}, "passwordSpraying": {"count": 0, "windowSeconds": 600}}"#.utf8)
            .write(to: URL(fileURLWithPath: rulesFile))
        let daemon = try await Daemon(settings: ["rulesFile": rulesFile])
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        _ = try await client.call(BrokerAPI.Register(username: "dave", password: "dave-password"))
        /// qsmd's user and system CPU time so far, in clock ticks.
        func cpuTicks() throws -> Int {
            let stat = try String(contentsOfFile: "/proc/\(daemon.process.pid)/stat", encoding: .utf8)
            // Fields after the command name (which may hold spaces) start at the state, field 3.
            let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
            return try #require(Int(fields[11])) + #require(Int(fields[12]))
        }
        var known: [Duration] = []
        var unknown: [Duration] = []
        var work = [0, 0]
        for round in 0..<12 {
            for (user, kind) in [("dave", 0), ("nosuchuser\(round)", 1)] {
                let (start, ticks) = (ContinuousClock.now, try cpuTicks())
                let reply = await Outcome.of(client, BrokerAPI.Login(username: user, password: "wrong-password"))
                let took = ContinuousClock.now - start
                work[kind] += try cpuTicks() - ticks
                #expect(reply.error == "io.qsm.Broker.AuthenticationFailed", "\(user): \(reply.error ?? "success")")
                if kind == 0 { known.append(took) } else { unknown.append(took) }
            }
        }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        print("login failures, 12 each: qsmd CPU \(Double(work[0]) / hertz) s for a known user, \(Double(work[1]) / hertz) s for "
              + "unknown users; wall-clock medians \(percentile(known, 0.5)) and \(percentile(unknown, 0.5))")
        #expect(work[0] >= 12, "a wrong password costs qsmd an Argon2id verification (\(work[0]) ticks for 12)")
        #expect(work[1] * 3 >= work[0], "unknown users: \(work[1]) ticks, known: \(work[0]); Argon2id must run for unknown users too")
        #expect(try await daemon.stop() == 0)
    }

    // MARK: - No secret in logs, file modes

    /// A workload under --log-level trace: qsmd's output holds no password, token, message body, master key
    /// or signing key (raw, hex, base64 or base64url), and the log file holds no message body. Everything
    /// under the data directory is closed to group and others.
    @Test func noSecretInTraceOutputAndDataDirectoryIsPrivate() async throws {
        let daemon = try await Daemon(settings: cheapSettings(), arguments: ["--log-level", "trace"])
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        var secrets: [String: String] = [:]
        let erin = try await client.registerAndLogin("erin")
        let frank = try await client.registerAndLogin("frank")
        secrets["erin's password"] = "erin-password"
        secrets["frank's password"] = "frank-password"
        secrets["erin's token"] = erin
        secrets["frank's token"] = frank
        _ = try await client.call(BrokerAPI.EstablishKey(token: erin, peer: "frank", qubits: 60_000))
        for mode in ["otp", "aes", "pqc"] {
            let body = "the \(mode) body nobody may see \(UInt64.random(in: 0...UInt64.max))"
            secrets["\(mode) body"] = body
            let sent = try await client.call(BrokerAPI.Send(token: erin, to: "frank", body: body, mode: mode))
            let read = try await client.call(BrokerAPI.Decrypt(token: frank, messageId: sent.messageId))
            #expect(read.body == body)
        }
        // Failures and refusals log too.
        _ = await Outcome.of(client, BrokerAPI.Login(username: "erin", password: "erin-wrong-password-xyz"))
        secrets["a wrong password"] = "erin-wrong-password-xyz"
        // A second factor: its secret, a code and the recovery codes (used ones too) are secrets as well.
        let uri = try await client.call(BrokerAPI.StartSecondFactor(token: erin)).uri
        let base32 = try #require(URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value)
        let totpSecret = try #require(Base32.decode(base32))
        let totp = TOTP(secret: SecretBytes(copying: totpSecret))
        let step = totp.step(atUnixSeconds: Int64(Date().timeIntervalSince1970))
        let recovery = try await client.call(BrokerAPI.ConfirmSecondFactor(token: erin, code: totp.code(step: step))).recoveryCodes
        _ = try await client.call(BrokerAPI.Login(username: "erin", password: "erin-password", code: totp.code(step: step + 1)))
        _ = try await client.call(BrokerAPI.Login(username: "erin", password: "erin-password", code: recovery[0]))
        secrets["the TOTP secret (base32)"] = base32
        secrets["the TOTP secret (hex)"] = totpSecret.map { String(format: "%02x", $0) }.joined()
        for (index, code) in recovery.enumerated() {
            secrets["recovery code \(index)"] = code
            secrets["recovery code \(index) (normalized)"] = code.replacingOccurrences(of: "-", with: "")
        }
        let codes = [totp.code(step: step), totp.code(step: step + 1)]
        _ = try await client.call(BrokerAPI.ChangePassword(token: erin, oldPassword: "erin-password", newPassword: "erin-second-password"))
        secrets["erin's new password"] = "erin-second-password"
        _ = try await client.call(BrokerAPI.Logout(token: frank))
        #expect(try await daemon.stop() == 0)

        var output = daemon.process.standardError + "\n" + daemon.process.lines.joined(separator: "\n")
        #expect(output.contains("trace") || output.count > 200, "trace output was produced: \(output.prefix(200))")
        for name in ["master.key", "signing.key"] {
            if let key = FileManager.default.contents(atPath: daemon.data + "/" + name) {
                secrets[name] = key.map { String(format: "%02x", $0) }.joined()
                secrets[name + " (base64)"] = key.base64EncodedString()
                secrets[name + " (base64url)"] = key.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            }
        }
        #expect(secrets["master.key"] != nil, "the master key exists")
        for (name, token) in [("erin's token", erin), ("frank's token", frank)] {
            let padded = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "="
            if let raw = Data(base64Encoded: padded) { secrets[name + " (hex)"] = raw.map { String(format: "%02x", $0) }.joined() }
        }
        output = output.lowercased()
        for (name, secret) in secrets {
            #expect(!output.contains(secret.lowercased()), "qsmd's trace output contains \(name)")
        }
        // The log itself: no body in the LMDB file.
        let file = try Data(contentsOf: URL(fileURLWithPath: daemon.data + "/log/data.mdb"))
        for mode in ["otp", "aes", "pqc"] {
            #expect(file.range(of: Data(secrets["\(mode) body"]!.utf8)) == nil, "the \(mode) body is in data.mdb")
        }
        #expect(file.range(of: Data("erin-password".utf8)) == nil && file.range(of: Data(erin.utf8)) == nil)
        // Every file of the data directory: no second-factor secret (raw, hex, base32), no recovery code, and
        // no code as a number of its own (a 6-digit run inside a longer number, a timestamp, is no leak).
        for entry in FileManager.default.enumerator(atPath: daemon.data)?.compactMap({ $0 as? String }) ?? [] {
            guard let bytes = FileManager.default.contents(atPath: daemon.data + "/" + entry) else { continue }
            #expect(bytes.range(of: totpSecret) == nil, "the raw TOTP secret is in \(entry)")
            let lowered = Data(bytes.map { (65...90).contains($0) ? $0 + 32 : $0 })
            for (name, secret) in secrets where name.hasPrefix("the TOTP") || name.hasPrefix("recovery") {
                #expect(lowered.range(of: Data(secret.lowercased().utf8)) == nil, "\(name) is in \(entry)")
            }
            for code in codes { #expect(!Self.containsNumber(code, in: bytes), "a second-factor code is in \(entry)") }
        }

        // File modes: nothing under the data directory is open to group or others.
        var open: [String] = []
        let entries = FileManager.default.enumerator(atPath: daemon.data)?.compactMap { $0 as? String } ?? []
        for entry in [""] + entries {
            let path = entry.isEmpty ? daemon.data : daemon.data + "/" + entry
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & 0o077 != 0 { open.append(String(format: "%@ %o", path, info.st_mode & 0o7777)) }
        }
        #expect(entries.contains("master.key") && entries.contains("log/data.mdb"))
        #expect(open.isEmpty, "open to group or others: \(open)")
    }
}
