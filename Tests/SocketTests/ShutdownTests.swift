import EventLog
import Foundation
import QSMClient
import QSMEvents
import QSMTesting
import Testing

@Suite("Shutdown")
struct ShutdownTests {
    /// SIGTERM in the middle of a burst of sends from several connections: every send that got a reply is
    /// in the log afterwards, and qsmd exits 0.
    @Test func everyAnsweredSendSurvivesSIGTERM() async throws {
        let daemon = try await Daemon()
        let alice = daemon.directory.appending("alice")
        for (user, home) in [("alice", alice), ("bob", daemon.directory.appending("bob"))] {
            _ = try await daemon.qsm(["register", user, "--password-stdin"], input: "\(user)-password", home: home)
        }
        let (loggedIn, _, loginError) = try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: alice)
        #expect(loggedIn == 0, "\(loginError)")
        let session = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: alice + "/session.json"))) as? [String: Any]
        let token = try #require(session?["token"] as? String)
        _ = try await daemon.qsm(["key", "establish", "bob"], home: alice)

        let acknowledged = Collected<String>()
        let socket = daemon.socket
        // Eight connections sending until qsmd closes them as it shuts down.
        let burst = Task {
            await withTaskGroup(of: Void.self) { group in
                for connection in 0..<8 {
                    group.addTask {
                        guard let client = try? await QSMConnection.connect(socketPath: socket) else { return }
                        for index in 0..<100_000 {
                            let send = BrokerAPI.Send(token: token, to: "bob", body: "burst \(connection)-\(index)", mode: "aes")
                            guard let sent = try? await client.call(send) else { break }
                            acknowledged.append(sent.messageId)
                        }
                        await client.close()
                    }
                }
            }
        }
        // SIGTERM once the burst is under way (a few dozen answered), not after a fixed time.
        let underWay = ContinuousClock.now + .seconds(60)
        while acknowledged.all.count < 40 && ContinuousClock.now < underWay { try await Task.sleep(for: .milliseconds(10)) }
        try #require(acknowledged.all.count >= 40, "the burst did not get going within 60 s")
        #expect(try await daemon.stop() == 0, "qsmd exits 0 on SIGTERM: \(daemon.process.standardError.suffix(500))")
        await burst.value

        let answered = acknowledged.all
        #expect(answered.count > 10, "the burst got going before SIGTERM (\(answered.count) answered)")
        let log = try EventStore(directory: daemon.data + "/log", mode: .readOnly)
        var stored = Set<String>()
        try log.forEach(from: 1) { record in
            if case .messageSent(let sent)? = try QSMEvent(record).body {
                stored.insert(sent.messageID.map { String(format: "%02x", $0) }.joined())
            }
            return true
        }
        let lost = answered.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) of \(answered.count) answered sends are missing")
        #expect(try log.verify().isValid)
        log.close()
        // And the daemon starts again on the same data.
        let again = try await Daemon(directory: daemon.directory)
        #expect(try await again.stop() == 0)
    }
}
