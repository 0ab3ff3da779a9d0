import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Synchronization
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

        let acknowledged = Mutex<[String]>([])
        let done = DispatchGroup()
        for connection in 0..<8 {
            done.enter()
            Thread {
                defer { done.leave() }
                let fd = socket_(daemon.socket)
                guard fd >= 0 else { return }
                defer { close(fd) }
                var buffer = [UInt8]()
                for index in 0..<100_000 {
                    let call: [String: Any] = ["method": "io.qsm.Broker.Send", "parameters": [
                        "token": token, "to": "bob", "body": "burst \(connection)-\(index)", "mode": "aes"]]
                    guard var frame = try? JSONSerialization.data(withJSONObject: call) else { return }
                    frame.append(0)
                    // MSG_NOSIGNAL: qsmd closes the connection as it shuts down, and a write after that must
                    // end this thread (EPIPE), not kill the test process with SIGPIPE.
                    let written = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    guard written == frame.count else { return }
                    // One reply: read until its NUL.
                    while !buffer.contains(0) {
                        var chunk = [UInt8](repeating: 0, count: 4096)
                        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                        guard count > 0 else { return }
                        buffer += chunk[..<count]
                    }
                    let end = buffer.firstIndex(of: 0)!
                    let reply = try? JSONSerialization.jsonObject(with: Data(buffer[..<end])) as? [String: Any]
                    buffer.removeSubrange(...end)
                    guard let id = (reply?["parameters"] as? [String: Any])?["messageId"] as? String else { return }
                    acknowledged.withLock { $0.append(id) }
                }
            }.start()
        }
        // SIGTERM once the burst is under way (a few dozen answered), not after a fixed time.
        let underWay = ContinuousClock.now + .seconds(60)
        while acknowledged.withLock({ $0.count }) < 40 && ContinuousClock.now < underWay { try await Task.sleep(for: .milliseconds(10)) }
        try #require(acknowledged.withLock { $0.count } >= 40, "the burst did not get going within 60 s")
        #expect(try await daemon.stop() == 0, "qsmd exits 0 on SIGTERM: \(daemon.process.standardError.suffix(500))")
        while done.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(10)) }

        let answered = acknowledged.withLock { $0 }
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
