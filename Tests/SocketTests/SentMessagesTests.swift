import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import QSMTesting
import Testing

/// Issue 18, items 3 and 18, through qsm and qsmd: senders read what they sent in every mode, never as
/// an alert; a session opens pqc messages across a qsmd restart, with no usable private key on disk.
@Suite("Sent messages and sessions across restarts, through qsm and qsmd")
struct SentMessagesTests {
    @Test func theSenderReadsWhatTheySentInEveryModeAndAThirdUserIsStillRefused() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let homes = ["alice", "bob", "carol"].map { ($0, daemon.directory.appending($0)) }
        for (user, home) in homes {
            _ = try await daemon.qsm(["register", user, "--password-stdin"], input: "\(user)-password", home: home)
            let (status, _, err) = try await daemon.qsm(["login", user, "--password-stdin"], input: "\(user)-password", home: home)
            #expect(status == 0, "\(user): \(err)")
        }
        let alice = homes[0].1
        let carol = homes[2].1
        var sent: [(mode: String, id: String)] = []
        for mode in ["otp", "aes", "pqc"] {
            let (status, out, err) = try await daemon.qsm(["send", "bob", "--mode", mode], input: "to bob in \(mode)", home: alice)
            #expect(status == 0, "\(err)")
            sent.append((mode, try #require(out.split(separator: " ").dropFirst().first.map(String.init))))
        }
        // Alice reads each, three times over (three refusals used to raise a HIGH alert against her).
        for _ in 1...3 {
            for (mode, id) in sent {
                let (status, out, err) = try await daemon.qsm(["read", id], home: alice)
                #expect(status == 0, "alice reading her \(mode) message: \(err)")
                #expect(out.hasPrefix("from alice to bob at"), "\(out)")
                #expect(out.hasSuffix("to bob in \(mode)"), "\(out)")
            }
        }
        var (status, out, err) = try await daemon.qsm(["alerts"], home: alice)
        #expect(status == 0 && out == "no alerts", "reading one's own messages is no alert: \(out) \(err)")
        (status, out, err) = try await daemon.qsm(["history"], home: alice)
        for (mode, id) in sent {
            #expect(out.contains("sent 13 bytes (\(mode)) to bob, message \(id)"), "\(out)")
            #expect(out.contains("read your sent message \(id)"), "\(out)")
        }
        #expect(!out.contains("refused"), "\(out)")
        // Bob's copies are still unread: the sender's read is not the recipient's.
        (status, out, err) = try await daemon.qsm(["inbox", "--unread"], home: homes[1].1)
        #expect(out.split(separator: "\n").count == 3, "\(out)")

        // Carol is refused, recorded, and three tries raise the alert.
        for _ in 1...3 {
            (status, out, err) = try await daemon.qsm(["read", sent[2].id], home: carol)
            #expect(status == 1 && err.contains("access denied") && err.contains("(recorded)"), "\(err)")
        }
        (status, out, err) = try await daemon.qsm(["alerts"], home: alice)
        #expect(out.contains("unauthorized_access") && out.contains("carol"), "\(out)")
        #expect(!out.contains("alice"), "no alert names alice: \(out)")
        #expect(try await daemon.stop() == 0)
    }

    @Test func aPQCMessageOpensAfterARestartWithoutLoggingInAgainAndNoSeedIsOnDisk() async throws {
        var daemon = try await Daemon(settings: cheapSettings())
        let alice = daemon.directory.appending("alice")
        let bob = daemon.directory.appending("bob")
        for (user, home) in [("alice", alice), ("bob", bob)] {
            _ = try await daemon.qsm(["register", user, "--password-stdin"], input: "\(user)-password", home: home)
            _ = try await daemon.qsm(["login", user, "--password-stdin"], input: "\(user)-password", home: home)
        }
        let (sentStatus, sentOut, sentErr) = try await daemon.qsm(["send", "alice", "--mode", "pqc"], input: "after the restart", home: bob)
        #expect(sentStatus == 0, "\(sentErr)")
        let id = try #require(sentOut.split(separator: " ").dropFirst().first.map(String.init))
        #expect(try await daemon.stop() == 0)
        daemon = try await Daemon(directory: daemon.directory, settings: cheapSettings())

        let (status, out, err) = try await daemon.qsm(["read", id], home: alice)
        #expect(status == 0, "alice's session reads pqc after the restart: \(err)")
        #expect(out.hasSuffix("after the restart"), "\(out)")
        // Bob's session reads his own pqc copy after the restart too.
        let (bobStatus, bobOut, bobErr) = try await daemon.qsm(["read", id], home: bob)
        #expect(bobStatus == 0 && bobOut.hasSuffix("after the restart"), "\(bobOut) \(bobErr)")
        #expect(try await daemon.stop() == 0)

        // The seed of alice's private key, unwrapped here with her password: nowhere in the log file.
        let events = try readLog(daemon.data).events
        let registrations = events.compactMap { event -> QSMUserRegistered? in
            if case .userRegistered(let e)? = event.body, e.username == "alice" { e } else { nil }
        }
        let registered = try #require(registrations.first)
        let logins = events.compactMap { event -> QSMLoginSucceeded? in
            if case .loginSucceeded(let e)? = event.body, e.username == "alice" { e } else { nil }
        }
        #expect(logins.count == 1 && logins[0].hasSessionPrivateKey, "one login, carrying the sealed key")
        let w = registered.pqcPrivateKey
        let hasher = try PasswordHasher(cost: .cheapForTestsOnly, permitCostBelowFloorForTests: true)
        let key = try PQCKeys.unwrap(
            WrappedSecret(keyID: w.keyID, algorithm: w.algorithm, nonce: w.nonce, sealed: w.sealed, kdf: w.kdf),
            username: "alice", password: "alice-password", hasher: hasher)
        let seed = key.seedForTests
        #expect(seed.count == 32)
        let file = try Data(contentsOf: URL(fileURLWithPath: daemon.data + "/log/data.mdb"))
        #expect(file.range(of: registered.pqcPublicKey) != nil, "the search finds what is there (the public key)")
        #expect(file.range(of: seed) == nil, "the private key's seed is in data.mdb")
    }
}
