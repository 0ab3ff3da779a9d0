import Foundation
import QSMClient
import QSMTesting
import Testing

/// The command line's conventions (issue 18 items 13 and 15): prompts that check what can be checked
/// first, one `qsm:` prefix and no usage after a runtime error, "did you mean", global options before the
/// subcommand, short flags, `qsm whoami` and message id prefixes in `qsm read`.
@Suite("qsm: command line conventions")
struct CLIConventionsTests {
    private func environment(_ daemon: Daemon?, home: String, extra: [String: String] = [:]) -> [String: String] {
        var environment = ["PATH": "/usr/bin:/bin", "QSM_HOME": home, "HOME": home, "TERM": "dumb"]
        if let daemon { environment["QSM_SOCKET"] = daemon.socket }
        return environment.merging(extra) { $1 }
    }

    /// `qsm register` on a terminal: a name qsmd would refuse and a socket that is not there are said
    /// before any prompt; a short password right after the first entry; differing entries in one line
    /// with no usage. The old client asked twice first and printed the usage after "the passwords differ".
    @Test func registerChecksWhatItCanBeforeAskingTwice() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-register")
        let home = directory.appending("home")
        let missing = try Terminal(Products.qsm, ["register", "alice"], environment: environment(nil, home: home, extra: ["QSM_SOCKET": directory.appending("none.sock")]))
        #expect(try await missing.wait() == 69)
        #expect(!missing.output.contains("Password"), "\(missing.output)")
        #expect(missing.output.hasPrefix("qsm: "), "\(missing.output)")

        let daemon = try await Daemon(settings: cheapSettings())
        let badName = try Terminal(Products.qsm, ["register", "Al"], environment: environment(daemon, home: home))
        #expect(try await badName.wait() == 64)
        #expect(!badName.output.contains("Password") && badName.output.contains("qsm: the username Al: 3-32 characters"), "\(badName.output)")

        let short = try Terminal(Products.qsm, ["register", "alice"], environment: environment(daemon, home: home))
        #expect(try await short.waitFor("Password for alice: "))
        short.type("short\n")
        #expect(try await short.wait() == 64)
        #expect(!short.output.contains("Again"), "\(short.output)")
        #expect(short.output.contains("qsm: the password: at least 8 bytes; nothing was registered"), "\(short.output)")

        let differ = try Terminal(Products.qsm, ["register", "alice"], environment: environment(daemon, home: home))
        #expect(try await differ.waitFor("Password for alice: "))
        differ.type("alice-password\n")
        #expect(try await differ.waitFor("Again: "))
        differ.type("alice-passw0rd\n")
        #expect(try await differ.wait() == 64)
        #expect(differ.output.contains("qsm: the passwords differ; nothing was registered"), "\(differ.output)")
        #expect(!differ.output.contains("Usage") && !differ.output.contains("Error:"), "\(differ.output)")
        #expect(try await daemon.stop() == 0)
    }

    /// Every error starts `qsm:`; a runtime error has no usage after it; a parse error keeps its usage; a
    /// session file that is not one is named.
    @Test func everyErrorIsOneQsmLineAndRuntimeErrorsHaveNoUsage() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let (status, _, stderr) = try await daemon.qsm(["send", "bob", "--file", daemon.directory.appending("no-such-file")], home: home)
        #expect(status == 64 && stderr.hasPrefix("qsm: cannot read ") && !stderr.contains("Usage"), "\(stderr)")
        #expect(stderr.split(separator: "\n").count == 1, "\(stderr)")
        let (parseStatus, _, parseError) = try await daemon.qsm(["inbox", "--limit", "many"], home: home)
        #expect(parseStatus == 64 && parseError.hasPrefix("qsm: ") && !parseError.contains("Error:"), "\(parseError)")
        try Data("{".utf8).write(to: URL(fileURLWithPath: home + "/session.json"))
        let (corrupt, _, corruptError) = try await daemon.qsm(["inbox"], home: home)
        #expect(corrupt == 69 && corruptError.hasPrefix("qsm: \(home)/session.json is not a session file"), "\(corruptError)")
        #expect(try await daemon.stop() == 0)
    }

    /// A mistyped subcommand, at the top or in a group, gets the nearest names.
    @Test func aMistypedSubcommandGetsDidYouMean() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-typo")
        for (arguments, suggestion) in [(["inbx"], "qsm inbox"), (["key", "establsh", "bob"], "qsm key establish"), (["admin", "evnts"], "qsm admin events"), (["whoamii"], "qsm whoami")] {
            let (status, output, stderr) = try await ChildProcess.run(Products.qsm, arguments, environment: environment(nil, home: directory.path))
            #expect(status == 64 && output.isEmpty, "\(arguments): \(status)")
            #expect(stderr.hasPrefix("qsm: unknown command") && stderr.contains("did you mean '\(suggestion)'"), "\(arguments): \(stderr)")
        }
    }

    /// `qsm --socket PATH --json inbox` works as `qsm inbox --socket PATH --json`; -n, -m and -f are
    /// --limit, --mode and --file (--follow for alerts); `qsm whoami` says who is logged in.
    @Test func globalOptionsFirstShortFlagsAndWhoami() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("bob")
        // No QSM_SOCKET: only the option before the subcommand names the socket.
        let plain = ["PATH": "/usr/bin:/bin", "QSM_HOME": home, "HOME": home]
        func qsm(_ arguments: [String], input: String? = nil) async throws -> (Int32, String, String) {
            let quoted = ([Products.qsm] + arguments).map { "'\($0)'" }.joined(separator: " ")
            let (status, lines, stderr) = try await ChildProcess.run("/bin/sh", ["-c", (input.map { "printf '%s\\n' '\($0)' | " } ?? "") + quoted], environment: plain)
            return (status, lines.joined(separator: "\n"), stderr)
        }
        #expect(try await qsm(["--socket", daemon.socket, "register", "bob", "--password-stdin"], input: "bob-password").0 == 0)
        #expect(try await qsm(["--socket=\(daemon.socket)", "login", "bob", "--password-stdin"], input: "bob-password").0 == 0)
        let (who, whoOutput, _) = try await qsm(["whoami"])
        #expect(who == 0 && whoOutput.hasPrefix("bob (session until "), "\(whoOutput)")
        let (_, whoJSON, _) = try await qsm(["--json", "whoami"])
        #expect((try JSONSerialization.jsonObject(with: Data(whoJSON.utf8)) as? [String: Any])?["username"] as? String == "bob")

        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let alice = try await client.registerAndLogin("alice")
        for index in 0..<2 { _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "m\(index)", mode: "pqc")) }
        let (inbox, inboxJSON, inboxError) = try await qsm(["--json", "--socket", daemon.socket, "inbox", "-n", "1"])
        #expect(inbox == 0, "\(inboxError)")
        let messages = try #require((try JSONSerialization.jsonObject(with: Data(inboxJSON.utf8)) as? [String: Any])?["messages"] as? [Any])
        #expect(messages.count == 1)
        let file = daemon.directory.appending("message")
        try Data("from a file\n".utf8).write(to: URL(fileURLWithPath: file))
        let (sent, sentOutput, sentError) = try await qsm(["--socket", daemon.socket, "send", "alice", "-m", "pqc", "-f", file])
        #expect(sent == 0 && sentOutput.hasSuffix("(pqc)"), "\(sentOutput) \(sentError)")
        let (_, help, _) = try await qsm(["alerts", "--help"])
        #expect(help.contains("-f, --follow") && help.contains("-n, --limit"), "\(help)")

        try FileManager.default.removeItem(atPath: home + "/session.json")
        let (nobody, _, nobodyError) = try await qsm(["whoami"])
        #expect(nobody == 69 && nobodyError.hasPrefix("qsm: not logged in"), "\(nobodyError)")
        #expect(try await daemon.stop() == 0)
    }

    /// `qsm read` takes a prefix that only one message id of the inbox has; a prefix several share is
    /// refused with the candidates, and the daemon never sees a partial id.
    @Test func readAcceptsAUniqueIDPrefix() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("bob")
        #expect(try await daemon.qsm(["register", "bob", "--password-stdin"], input: "bob-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "bob", "--password-stdin"], input: "bob-password", home: home).0 == 0)
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let alice = try await client.registerAndLogin("alice")
        // 17 ids over 16 hex digits: two of them share their first character.
        var bodies: [String: String] = [:]
        for index in 0..<17 {
            let id = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "message \(index)", mode: "pqc")).messageId
            bodies[id] = "message \(index)"
        }
        let ids = Array(bodies.keys)
        let shared = try #require(Dictionary(grouping: ids, by: { $0.prefix(1) }).first { $0.value.count > 1 })
        let (ambiguous, _, ambiguousError) = try await daemon.qsm(["read", String(shared.key)], home: home)
        #expect(ambiguous == 64 && ambiguousError.hasPrefix("qsm: the id prefix \(shared.key) is ambiguous"), "\(ambiguousError)")
        for id in shared.value { #expect(ambiguousError.contains(id), "\(ambiguousError)") }

        let target = ids[0]
        let length = (1...32).first { length in ids.filter { $0.hasPrefix(target.prefix(length)) }.count == 1 } ?? 32
        let prefix = String(target.prefix(max(length, 4)))
        let (status, output, stderr) = try await daemon.qsm(["read", prefix], home: home)
        #expect(status == 0 && output.hasSuffix(bodies[target] ?? "?"), "\(prefix): \(output) \(stderr)")
        let (none, _, noneError) = try await daemon.qsm(["read", "0123456789abcdef0123456789abcde"], home: home)
        #expect(none == 64 && noneError.contains("no message in your inbox"), "\(noneError)")
        #expect(try await daemon.stop() == 0)
    }

    /// `qsm key status` shows the key left with each peer, which an otp message uses up.
    @Test func keyStatusShowsTheKeyLeftPerPeer() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        _ = try await registerAndLogin("bob", socket: daemon.socket)
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let (empty, emptyOutput, _) = try await daemon.qsm(["key", "status"], home: home)
        #expect(empty == 0 && emptyOutput.hasPrefix("no key material"), "\(emptyOutput)")
        #expect(try await daemon.qsm(["key", "establish", "bob"], home: home).0 == 0)
        func available() async throws -> Int {
            let (status, json, stderr) = try await daemon.qsm(["key", "status", "--json"], home: home)
            #expect(status == 0, "\(stderr)")
            let pools = try #require((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["pools"] as? [[String: Any]])
            #expect(pools.count == 1 && pools.first?["peer"] as? String == "bob" && pools.first?["keys"] as? Int == 1, "\(pools)")
            return pools.first?["availableBits"] as? Int ?? -1
        }
        let before = try await available()
        #expect(before > 0)
        let (text, textOutput, _) = try await daemon.qsm(["key", "status"], home: home)
        #expect(text == 0 && textOutput == "bob  \(before / 8) bytes left (\(before) bits)  from 1 key", "\(textOutput)")
        #expect(try await daemon.qsm(["send", "bob", "-m", "otp"], input: "0123456789", home: home).0 == 0)
        #expect(try await available() == before - (10 + 32) * 8)
        #expect(try await daemon.stop() == 0)
    }
}
