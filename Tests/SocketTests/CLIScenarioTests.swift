import Foundation
import QSMTesting
import Testing

@Suite("The published scenario through qsm and qsmd")
struct CLIScenarioTests {
    @Test func twoUsersAKeyAMessageAndABruteForceAlert() async throws {
        let daemon = try await Daemon()
        let alice = daemon.directory.appending("alice")
        let bob = daemon.directory.appending("bob")
        func qsm(_ arguments: [String], input: String? = nil, home: String) async throws -> String {
            let (status, out, err) = try await daemon.qsm(arguments, input: input, home: home)
            #expect(status == 0, "qsm \(arguments.joined(separator: " ")): \(err)")
            return out
        }
        #expect(try await qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: alice) == "registered alice")
        _ = try await qsm(["register", "bob", "--password-stdin"], input: "bob-password", home: bob)
        #expect(try await qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: alice).hasPrefix("logged in as alice"))
        _ = try await qsm(["login", "bob", "--password-stdin"], input: "bob-password", home: bob)
        // The session file holds the token and nobody else may read it.
        var info = stat()
        #expect(stat(alice + "/session.json", &info) == 0 && info.st_mode & 0o777 == 0o600)

        let exchange = try await qsm(["key", "establish", "bob"], home: alice)
        #expect(exchange.contains("QBER") && exchange.contains("final key"))
        // From standard input: nothing on the command line for other users to read, and no warning.
        let (sentStatus, sent, sentWarning) = try await daemon.qsm(
            ["send", "bob", "--mode", "otp"], input: "meet at the quantum cafe", home: alice)
        #expect(sentStatus == 0 && sentWarning.isEmpty, "\(sentWarning)")
        let messageID = try #require(sent.split(separator: " ").dropFirst().first.map(String.init))
        // As an argument it still works, with a warning that others can read it.
        let (argumentStatus, _, argumentWarning) = try await daemon.qsm(["send", "bob", "my bank PIN is 4921"], home: alice)
        #expect(argumentStatus == 0 && argumentWarning.contains("other users can read it"), "\(argumentWarning)")
        let file = daemon.directory.appending("message.txt")
        try Data("from a file".utf8).write(to: URL(fileURLWithPath: file))
        let (fileStatus, _, fileWarning) = try await daemon.qsm(["send", "bob", "--file", file], home: alice)
        #expect(fileStatus == 0 && fileWarning.isEmpty, "\(fileWarning)")
        let inbox = try await qsm(["inbox"], home: bob)
        #expect(inbox.contains(messageID) && inbox.contains("from alice"))
        #expect(inbox.split(separator: "\n").count == 3, "the three messages: \(inbox)")
        let read = try await qsm(["read", messageID], home: bob)
        #expect(read.trimmingCharacters(in: .newlines).hasSuffix("meet at the quantum cafe"))

        // Five wrong passwords: refused one line at a time, then an alert an admin (root here) sees.
        for _ in 0..<5 {
            let (status, _, err) = try await daemon.qsm(["login", "alice", "--password-stdin"], input: "guess-guess", home: bob)
            #expect(status != 0 && err.contains("wrong username or password"), "\(err)")
        }
        let (lockedStatus, _, lockedError) = try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: alice)
        #expect(lockedStatus != 0 && lockedError.contains("account locked"), "\(lockedError)")
        let alerts = try await qsm(["alerts"], home: bob)
        #expect(alerts.contains("brute_force") && alerts.contains("alice"))

        let dashboard = try await qsm(["dashboard", "--json"], home: bob)
        let counters = try #require((try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any])?["counters"] as? [String: Any])
        #expect(counters["registrations"] as? Int == 2)
        #expect(counters["encryptions"] as? Int == 3 && counters["decryptions"] as? Int == 1)
        #expect(counters["loginsFailed"] as? Int == 6 && counters["alerts"] as? Int == 1)
        #expect(counters["keyExchanges"] as? Int == 1)
        #expect(try await qsm(["admin", "verify"], home: bob).hasPrefix("chain valid"))
        #expect(try await daemon.stop() == 0)
    }

    @Test func adminMethodsAreRefusedToOtherUsersAndTheRefusalIsRecorded() async throws {
        // The socket is opened to everyone here so that nobody can connect at all.
        let daemon = try await Daemon(settings: ["socketMode": "0666"])
        let home = daemon.directory.appending("nobody-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let (status, _, err) = try await daemon.qsm(["admin", "stats"], home: home, asNobody: true)
        #expect(!err.contains("qsm: Permission denied"), "nobody could not even run qsm: \(err)")
        #expect(status != 0 && err.contains("permission denied"), "\(err)")
        // The user methods answer nobody as usual.
        let (registered, out, registerError) = try await daemon.qsm(
            ["register", "nobodyuser", "--password-stdin"], input: "nobody-password", home: home, asNobody: true)
        #expect(registered == 0 && out == "registered nobodyuser", "\(registerError)")
        // root is an admin; the refusal is in the log with nobody's uid.
        let (_, events, _) = try await daemon.qsm(["admin", "events", "--json", "--limit", "100"], home: home)
        let denial = try #require(events.components(separatedBy: "\n").first { $0.contains("REASON_NOT_ADMIN") }, "\(events.prefix(400))")
        #expect(denial.contains("65534"), "the refusal carries nobody's uid: \(denial)")
        #expect(try await daemon.stop() == 0)
    }
}
