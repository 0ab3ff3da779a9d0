import Broker
import EventLog
import Foundation
import QSMEvents
import Testing

@Suite("Published scenario")
struct ScenarioTests {
    @Test func aliceAndBobExchangeAKeyAndAMessageAndBruteForceRaisesAnAlert() async throws {
        let test = try TestBroker()
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        let bob = try await broker.enrol("bob", caller: Peers.bob)

        let exchange = try await broker.establishKey(token: alice, peer: "bob", caller: Peers.alice)
        #expect(exchange.finalBits > 0 && exchange.qber < 0.05)

        let body = Data("meet at the quantum cafe".utf8)
        let sent = try await broker.send(token: alice, to: "bob", body: body, mode: "otp", caller: Peers.alice)
        let inbox = try await broker.inbox(token: bob, caller: Peers.bob)
        #expect(inbox.map(\.messageID) == [sent.messageID])
        #expect(inbox.first?.from == "alice" && inbox.first?.read == false)
        let opened = try await broker.decrypt(token: bob, messageID: sent.messageID, caller: Peers.bob)
        #expect(opened.body == body && opened.from == "alice" && opened.mode == "otp")
        #expect(try await broker.inbox(token: bob, unreadOnly: true, caller: Peers.bob).isEmpty)
        // Each side's history, newest first, in its own words.
        let bobHistory = try await broker.history(token: bob, limit: 3, caller: Peers.bob).map(\.summary)
        #expect(bobHistory.first?.hasPrefix("read message \(sent.messageID) from alice") == true, "\(bobHistory)")
        #expect(bobHistory.contains { $0.hasPrefix("received \(body.count) bytes (otp) from alice") }, "\(bobHistory)")
        let aliceHistory = try await broker.history(token: alice, limit: 2, caller: Peers.alice)
        #expect(aliceHistory.first?.summary == "bob read your message \(sent.messageID)")
        #expect(aliceHistory.first?.kind == "message_decrypted")

        for _ in 0..<5 {
            await #expect(throws: BrokerError.badCredentials) {
                try await broker.login(username: "alice", password: "wrong-password", caller: Peers.carol)
            }
        }
        let alerts = try await broker.alerts(caller: Peers.admin)
        #expect(alerts.map(\.rule) == ["brute_force"])
        #expect(alerts.first?.subject == "alice" && alerts.first?.evidence.count == 5)
        // The account is locked for the guessing source: even the right password is refused from there,
        // with the time it opens again; alice, from her own uid, still logs in.
        await #expect {
            try await broker.login(username: "alice", password: "alice-password", caller: Peers.carol)
        } throws: { error in
            if case BrokerError.accountLocked = error { return true }
            return false
        }
        _ = try await broker.login(username: "alice", password: "alice-password", caller: Peers.alice)
        // Alerts are for administrators only; the refusal is recorded.
        await #expect(throws: BrokerError.notAdmin) { try await broker.alerts(caller: Peers.bob) }

        let dashboard = try await broker.dashboard(token: bob, caller: Peers.bob)
        #expect(dashboard.counters.registrations == 2)
        #expect(dashboard.counters.loginsSucceeded == 3)
        #expect(dashboard.counters.loginsFailed == 6)
        #expect(dashboard.counters.keyExchanges == 1)
        #expect(dashboard.counters.encryptions == ["otp": 1])
        #expect(dashboard.counters.decryptions == ["otp": 1])
        #expect(dashboard.counters.alerts == ["high": 1])
        #expect(dashboard.counters.keyBitsUsed == UInt64(body.count + 32) * 8)
        #expect(dashboard.activeSessions == 3)
        #expect(dashboard.series.last?.counts.sends == 1)

        // The peer credentials of each call are on its events.
        let events = try await broker.readEvents(from: 1, limit: 1000, caller: Peers.admin)
        let sentEvent = try #require(events.first { if case .messageSent = $0.body { true } else { false } })
        #expect(sentEvent.peer.uid == 1001 && sentEvent.peer.pid == 11_001)
        #expect(try await broker.verifyChain(caller: Peers.admin).isValid)
        await broker.close()
    }

    @Test func everyModeRoundTripsAndSurvivesARestart() async throws {
        var test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        let bob = try await test.broker.enrol("bob", caller: Peers.bob)
        var sent: [(String, Data)] = []
        for mode in ["aes", "otp", "pqc", "aes", "otp"] {
            // No explicit key exchange: otp and aes top the pool up themselves.
            let body = Data("\(mode) message \(sent.count)".utf8)
            sent.append((try await test.broker.send(token: alice, to: "bob", body: body, mode: mode, caller: Peers.alice).messageID, body))
        }
        for (id, body) in sent {
            #expect(try await test.broker.decrypt(token: bob, messageID: id, caller: Peers.bob).body == body)
        }
        try await test.restart()
        // otp and aes reopen from the log after a restart; pqc too, with the same session: its private
        // key was sealed under the token at login, and the token unseals it.
        for (id, body) in sent {
            #expect(try await test.broker.decrypt(token: bob, messageID: id, caller: Peers.bob).body == body)
        }
        // The sender reads her own sent messages, pqc through her copy.
        for (id, body) in sent {
            #expect(try await test.broker.decrypt(token: alice, messageID: id, caller: Peers.alice).body == body)
        }
        // A logged-out session's sealed key is of no use: the session is over.
        try await test.broker.logout(token: bob, caller: Peers.bob)
        try await test.restart()
        await #expect(throws: BrokerError.sessionRevoked) {
            try await test.broker.decrypt(token: bob, messageID: sent[2].0, caller: Peers.bob)
        }
        await test.broker.close()
    }
}
