import ArgumentParser
import DashboardPage
import Foundation
import QSMClient

extension QSM {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk through the whole system against a running qsmd, explaining each step.",
            discussion: """
                Registers two new users (alice-XXXXXX and bob-XXXXXX, with a fresh suffix each run, so the demo \
                can run again on the same daemon), logs them in, runs a clean BB84 exchange and one an \
                eavesdropper spoils, sends a message in each mode (otp, aes, pqc), lists and decrypts them, \
                lets the sender read back her pqc message and a third user (eve-XXXXXX) be refused it, \
                tries wrong passwords until the intrusion detection locks the account, and shows the \
                dashboard. Its sessions stay in memory: your own qsm login ($QSM_HOME) is left alone, and \
                the demo logs its users out at the end. What it did stays in the log, as everything does.
                """)
        @Option(help: ArgumentHelp("Also write the dashboard as an HTML page to FILE at the end.", valueName: "FILE"))
        var html: String?
        @Option(help: "Qubits per BB84 exchange (default 200,000; qsmd says which counts it accepts).") var qubits: Int?
        @OptionGroup var options: ClientOptions

        func validate() throws {
            if let html { try DashboardFile.checkWritable(html) }
        }

        func run() async throws {
            try await runClient {
                try await DemoScript(connection: try await options.connect(), options: options, qubits: qubits, html: html).run()
            }
        }
    }
}

/// The demo's steps: each says what it shows, calls qsmd, and prints what came back.
struct DemoScript {
    let connection: QSMConnection
    let options: ClientOptions
    let qubits: Int?
    let html: String?
    let suffix: String
    let alice: String
    let bob: String
    /// A third user who tries to read what is not hers.
    let eve: String

    init(connection: QSMConnection, options: ClientOptions, qubits: Int?, html: String?) {
        self.connection = connection
        self.options = options
        self.qubits = qubits
        self.html = html
        suffix = String((0..<6).map { _ in "0123456789abcdef".randomElement()! })
        alice = "alice-" + suffix
        bob = "bob-" + suffix
        eve = "eve-" + suffix
    }

    private func step(_ number: Int, _ title: String, _ narration: String) {
        let (bold, plain) = isatty(STDOUT_FILENO) == 1 ? ("\u{1B}[1m", "\u{1B}[0m") : ("", "")
        print("\n\(bold)\(number). \(title)\(plain)")
        for line in narration.split(separator: "\n") { print("   " + line) }
        fflush(nil)
    }

    private func say(_ text: String) {
        print("   → " + text)
        fflush(nil)
    }

    /// Calls `request` expecting the declared error `expected` matches; returns that error.
    private func expectError<Request: QSMRequest>(
        _ request: Request, _ expected: String, _ matches: (BrokerAPIError) -> Bool
    ) async throws -> BrokerAPIError {
        let refusal: QSMClientError
        do {
            _ = try await connection.call(request)
            throw ConnectionError(description: "demo: \(Request.method) succeeded where \(expected) was expected")
        } catch let error as QSMClientError {
            refusal = error
        }
        if case .broker(let declared) = refusal, matches(declared) { return declared }
        throw refusal
    }

    private static func password() -> String {
        String((0..<20).map { _ in "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement()! })
    }

    func run() async throws {
        print("qsm demo: the Quantum Secure Messaging System, step by step, on \(options.socketPath)")
        print("users this run: \(alice) and \(bob)")

        step(1, "Two users register", """
            Each gets an Argon2id password hash and an X-Wing (ML-KEM-768 + X25519) key pair for pqc messages;
            the private key is stored wrapped under a key derived from the password.
            """)
        let alicePassword = Self.password(), bobPassword = Self.password()
        _ = try await connection.call(BrokerAPI.Register(username: alice, password: alicePassword))
        say("registered \(alice)")
        _ = try await connection.call(BrokerAPI.Register(username: bob, password: bobPassword))
        say("registered \(bob)")

        step(2, "They log in", "A session token (256 random bits) is returned once; only its hash is stored.")
        let aliceToken = try await connection.call(BrokerAPI.Login(username: alice, password: alicePassword)).session.token
        say("\(alice) has a session")
        let bobToken = try await connection.call(BrokerAPI.Login(username: bob, password: bobPassword)).session.token
        say("\(bob) has a session")

        step(3, "A clean BB84 key exchange", """
            Alice sends qubits in random bases; Bob measures in random bases; they keep the positions where
            the bases agreed (sifting), estimate the error rate (QBER) on a sample, correct errors (Cascade)
            and shorten the key to what an eavesdropper cannot know (privacy amplification).
            """)
        let keyRequest = BrokerAPI.EstablishKey(token: aliceToken, peer: bob, qubits: qubits)
        let exchange = try await connection.call(keyRequest).exchange
        say(String(format: "%lld qubits sent, %lld sifted, %lld sampled", Int64(exchange.qubitsSent),
                   Int64(exchange.sifted), Int64(exchange.sampleSize)))
        say(String(format: "QBER %.2f%% (upper bound %.2f%%): below the 11%% threshold, so no eavesdropper",
                   exchange.qber * 100, exchange.qberUpperBound * 100))
        say(String(format: "Cascade disclosed %lld bits (efficiency f = %.3f); final shared key: %lld bits",
                   Int64(exchange.leakedBits), exchange.efficiency, Int64(exchange.finalBits)))

        step(4, "An exchange with an eavesdropper", """
            Eve intercepts every qubit, measures it in a random basis and resends it: she guesses the basis
            wrong half the time, which flips Bob's bit half of those times, so the QBER jumps to about 25%.
            """)
        var spied = keyRequest
        spied.eavesdropper = 1.0
        let aborted = try await expectError(spied, "EavesdroppingDetected") {
            if case .eavesdroppingDetected = $0 { true } else { false }
        }
        if case .eavesdroppingDetected(let qber, let bound, let threshold) = aborted {
            say(String(format: "aborted: QBER %.2f%%, upper bound %.2f%% over the threshold %.0f%%; no key was made, an alert was raised",
                       qber * 100, bound * 100, threshold * 100))
        }

        step(5, "Messages in each mode", """
            otp: XOR with fresh BB84 key bits plus a one-time Poly1305 tag (costs the message's length + 32 bytes of key);
            aes: AES-256-GCM under a 256-bit block of the BB84 key (the fast mode);
            pqc: HPKE with X-Wing to Bob's public key (needs no BB84 key at all).
            """)
        var pqcMessage = ""
        for (mode, text) in [("otp", "The quantum cafe, at noon."), ("aes", "Bring the notebook."), ("pqc", "Tell no one.")] {
            let sent = try await connection.call(BrokerAPI.Send(token: aliceToken, to: bob, body: text, mode: mode))
            say("\(mode): sent \(sent.messageId) at log position \(sent.position)")
            if mode == "pqc" { pqcMessage = sent.messageId }
        }

        step(6, "Bob's inbox and decryption", "The inbox lists messages, never their bodies; decrypting records that Bob read it.")
        let messages = try await connection.call(BrokerAPI.Inbox(token: bobToken)).messages
        for message in messages {
            say("\(message.messageId)  from \(message.from)  \(message.mode)  \(message.size) bytes")
        }
        for message in messages.reversed() {
            let opened = try await connection.call(BrokerAPI.Decrypt(token: bobToken, messageId: message.messageId))
            say("\(opened.mode): \"\(opened.body)\"")
        }
        let own = try await connection.call(BrokerAPI.Decrypt(token: aliceToken, messageId: pqcMessage))
        say("Alice reads what she sent, \"\(own.body)\": pqc keeps a copy sealed to her own key")
        // A third user, the demo's only other party, to show the refusal everyone else meets.
        let evePassword = Self.password()
        _ = try await connection.call(BrokerAPI.Register(username: eve, password: evePassword))
        let eveToken = try await connection.call(BrokerAPI.Login(username: eve, password: evePassword)).session.token
        let denied = try await expectError(BrokerAPI.Decrypt(token: eveToken, messageId: pqcMessage), "AccessDenied") {
            if case .accessDenied = $0 { true } else { false }
        }
        if case .accessDenied(let resource) = denied {
            say("\(eve) tries to read it: refused (\(resource)), and the attempt is recorded")
        }

        step(7, "A brute-force attack", """
            Someone tries passwords for \(bob). Five failures in ten minutes trip the intrusion detection's
            brute_force rule: an alert, and the account is locked for a while (the lock doubles on repeats).
            """)
        var attempts = 0
        var locked = false
        while attempts < 8 && !locked {
            attempts += 1
            let guess = BrokerAPI.Login(username: bob, password: "guess-\(attempts)-\(suffix)")
            let refusal: BrokerAPIError
            do {
                _ = try await connection.call(guess)
                continue
            } catch {
                guard case .broker(let declared) = error else { throw error }
                refusal = declared
            }
            if case .accountLocked(let retry) = refusal {
                locked = true
                say("attempt \(attempts): account locked, retry after \(retry) s")
            } else {
                say("attempt \(attempts): \(CallFailure.explain(refusal))")
            }
        }
        if !locked { say("the account was not locked after \(attempts) attempts (are the IDS thresholds changed?)") }
        let alerts = try await DashboardFile.latestAlerts(options: options, limit: 50)
        if let alerts {
            let ours = alerts.filter { $0.subject.hasSuffix(suffix) }
            for alert in ours.reversed() {
                say("alert: \(alert.severity.uppercased()) \(alert.rule) on \(alert.subject): \(alert.message)")
            }
        } else {
            say("(the alerts themselves are for administrators: root, qsmd's user or --admin-group)")
        }

        step(8, "The dashboard", "System-wide counters and the last hour, minute by minute (qsm dashboard; --html for a page).")
        let dashboard = try await connection.call(BrokerAPI.Dashboard(token: aliceToken))
        print(DashboardRenderer.render(dashboard).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        if let html {
            let page = DashboardHTML.render(DashboardHTML.Input(
                reply: dashboard, alerts: try await DashboardFile.latestAlerts(options: options), windowMinutes: 60, now: Date(),
                refreshSeconds: nil))
            try DashboardFile.writeAtomically(Data(page.utf8), to: html)
            say("wrote \(html)")
        }

        for token in [aliceToken, bobToken, eveToken] { _ = try? await connection.call(BrokerAPI.Logout(token: token)) }
        print("\ndone: \(alice), \(bob) and \(eve) are logged out; their events stay in the log (qsm alerts, qsm audit verify).")
    }
}
