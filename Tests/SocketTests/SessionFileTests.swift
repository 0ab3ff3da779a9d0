import EventLog
import Foundation
import QSMEvents
import QSMClient
import QSMTesting
import Testing

/// What qsm does with a session that has ended (issue 18 item 4): it does not keep sending a dead token,
/// which the daemon refuses each time and counts towards a stale_token alert.
@Suite("qsm: ended sessions")
struct SessionFileTests {
    private func refusals(_ daemon: Daemon) throws -> Int {
        try readLog(daemon.data).events.filter { $0.type == EventType.accessDenied.rawValue }.count
    }

    /// Past its expiresAt, the session is not sent at all: one line says when it expired and what to run,
    /// the file goes, and the daemon records nothing.
    @Test func anExpiredSessionIsNotSentAndItsFileIsDropped() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        // The clock moved past the session's end: the file says so, as it would eight hours later.
        let file = home + "/session.json"
        var session = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        session["expiresAt"] = Int64(Date().timeIntervalSince1970 * 1_000_000) - 1_000_000
        try JSONSerialization.data(withJSONObject: session).write(to: URL(fileURLWithPath: file))
        let before = try refusals(daemon)

        let (status, output, stderr) = try await daemon.qsm(["inbox"], home: home)
        #expect(status == 69 && output.isEmpty)
        #expect(stderr.hasPrefix("qsm: the session for alice expired at ") && stderr.contains("run qsm login alice"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: file), "the dead session's file is dropped")
        let (again, _, againError) = try await daemon.qsm(["inbox"], home: home)
        #expect(again == 69 && againError.contains("not logged in"), "\(againError)")
        #expect(try refusals(daemon) == before, "no call reached the daemon")
        #expect(try await daemon.stop() == 0)
    }

    /// A session the daemon ended (here a logout from another client with the same token) is refused
    /// once; the file goes with that refusal, so the next command does not send the token again.
    @Test func aSessionTheDaemonEndedIsSentOnceThenForgotten() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let file = home + "/session.json"
        let session = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        _ = try await client.call(BrokerAPI.Logout(token: try #require(session["token"] as? String)))
        await client.close()
        let before = try refusals(daemon)

        let (status, _, stderr) = try await daemon.qsm(["inbox"], home: home)
        #expect(status == 1 && stderr.contains("not logged in"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: file))
        for _ in 0..<3 { #expect(try await daemon.qsm(["inbox"], home: home).0 == 69) }
        #expect(try refusals(daemon) == before + 1, "one refusal recorded, not four")
        #expect(try await daemon.stop() == 0)
    }
}
