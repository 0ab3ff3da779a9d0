import Broker
import EventLog
import Foundation
import QSMEvents
import Testing

@Suite("Authorization and bad input")
struct AuthorizationTests {
    @Test func usersReachOnlyTheirOwnDataAndEveryRefusalIsRecorded() async throws {
        let test = try TestBroker()
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        let bob = try await broker.enrol("bob", caller: Peers.bob)
        let carol = try await broker.enrol("carol", caller: Peers.carol)
        var messages: [String] = []
        for mode in ["otp", "aes", "pqc"] {
            messages.append(try await broker.send(token: alice, to: "bob", body: Data("secret \(mode)".utf8), mode: mode, caller: Peers.alice).messageID)
        }
        // The sender reads what she sent (pqc through her own copy); a third user cannot.
        for (mode, id) in zip(["otp", "aes", "pqc"], messages) {
            #expect(try await broker.decrypt(token: alice, messageID: id, caller: Peers.alice).body == Data("secret \(mode)".utf8))
        }
        for (token, caller, user) in [(carol, Peers.carol, "carol"), (alice, Peers.alice, "alice")] {
            for id in messages where user == "carol" {
                await #expect(throws: BrokerError.notOwner(resource: "message \(id)")) {
                    try await broker.decrypt(token: token, messageID: id, caller: caller)
                }
            }
            #expect(try await broker.inbox(token: token, caller: caller).isEmpty, "\(user) sees no one else's inbox")
            let history = try await broker.history(token: token, limit: 1000, caller: caller)
            #expect(!history.contains { $0.summary.contains("bob read") }, "\(user)'s history holds only \(user)'s entries")
        }
        #expect(try await broker.inbox(token: bob, caller: Peers.bob).count == 3)
        // Admin methods refuse non-admins.
        await #expect(throws: BrokerError.notAdmin) { try await broker.readEvents(from: 1, caller: Peers.bob) }
        await #expect(throws: BrokerError.notAdmin) { try await broker.verifyChain(caller: Peers.bob) }
        await #expect(throws: BrokerError.notAdmin) { try await broker.rebuild(caller: Peers.bob) }
        await #expect(throws: BrokerError.notAdmin) { try await broker.stats(caller: Peers.bob) }
        // Forged and missing tokens.
        let forged = String(repeating: "A", count: 43)
        for token in [forged, "", "not a token"] {
            await #expect(throws: BrokerError.noSession) { try await broker.inbox(token: token, caller: Peers.carol) }
        }
        let events = try await broker.readEvents(from: 1, limit: 10_000, caller: Peers.admin)
        let denials = events.compactMap { event -> QSMAccessDenied? in
            if case .accessDenied(let denied) = event.body { denied } else { nil }
        }
        #expect(denials.filter { $0.reason == .notOwner }.count == 3, "carol's three reads; alice's own reads are no refusal")
        #expect(denials.filter { $0.reason == .notOwner && $0.username == "carol" }.allSatisfy { $0.owner == "bob" })
        #expect(denials.filter { $0.reason == .notAdmin }.count == 4)
        #expect(denials.filter { $0.reason == .noSession }.count == 3)
        // The refused reader's uid is on the refusal.
        let carolDenial = try #require(events.first {
            if case .accessDenied(let d) = $0.body { d.username == "carol" } else { false }
        })
        #expect(carolDenial.peer.uid == 1003)
        // Nothing was marked read.
        #expect(try await broker.inbox(token: bob, unreadOnly: true, caller: Peers.bob).count == 3)
        await broker.close()
    }

    @Test func badInputIsRefusedWithAReasonAndWritesNothing() async throws {
        let test = try TestBroker()
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        _ = try await broker.enrol("bob", caller: Peers.bob)
        let head = try broker.log.head().position
        func refused(_ name: String, _ body: () async throws -> Void) async {
            await #expect {
                try await body()
            } throws: { error in
                guard case BrokerError.invalidParameter(let parameter, let reason) = error else { return false }
                return parameter == name && !reason.isEmpty
            }
        }
        await refused("username") { _ = try await broker.register(username: "Al", password: "long-enough-1", caller: Peers.carol) }
        await refused("username") { _ = try await broker.register(username: "al ice", password: "long-enough-1", caller: Peers.carol) }
        await refused("username") { _ = try await broker.register(username: String(repeating: "a", count: 33), password: "long-enough-1", caller: Peers.carol) }
        await refused("username") { _ = try await broker.register(username: "system", password: "long-enough-1", caller: Peers.carol) }
        await refused("password") { _ = try await broker.register(username: "carol", password: "short", caller: Peers.carol) }
        await refused("password") { _ = try await broker.register(username: "carol", password: String(repeating: "p", count: 1025), caller: Peers.carol) }
        await refused("body") { _ = try await broker.send(token: alice, to: "bob", body: Data(), caller: Peers.alice) }
        await refused("body") { _ = try await broker.send(token: alice, to: "bob", body: Data(count: 64 * 1024 + 1), caller: Peers.alice) }
        await refused("mode") { _ = try await broker.send(token: alice, to: "bob", body: Data("x".utf8), mode: "rot13", caller: Peers.alice) }
        await refused("to") { _ = try await broker.send(token: alice, to: "Bob!", body: Data("x".utf8), caller: Peers.alice) }
        await refused("qubits") { _ = try await broker.establishKey(token: alice, peer: "bob", options: KeyExchangeOptions(qubits: -5), caller: Peers.alice) }
        await refused("qubits") { _ = try await broker.establishKey(token: alice, peer: "bob", options: KeyExchangeOptions(qubits: Int.max), caller: Peers.alice) }
        await refused("noise") { _ = try await broker.establishKey(token: alice, peer: "bob", options: KeyExchangeOptions(noise: 1.5), caller: Peers.alice) }
        await refused("eavesdropper") { _ = try await broker.establishKey(token: alice, peer: "bob", options: KeyExchangeOptions(eavesdropper: .nan), caller: Peers.alice) }
        for bias in [0.49, 1.0, -1, .nan, .infinity] {
            await refused("basisBias") { _ = try await broker.establishKey(token: alice, peer: "bob", options: KeyExchangeOptions(basisBias: bias), caller: Peers.alice) }
        }
        await refused("messageId") { _ = try await broker.decrypt(token: alice, messageID: "zz", caller: Peers.alice) }
        await refused("limit") { _ = try await broker.inbox(token: alice, limit: 0, caller: Peers.alice) }
        #expect(try broker.log.head().position == head, "bad input appends nothing")

        // Refusals that are decisions: typed, and recorded only where the IDS needs them.
        await #expect(throws: BrokerError.unknownUser("dave")) {
            try await broker.send(token: alice, to: "dave", body: Data("x".utf8), mode: "pqc", caller: Peers.alice)
        }
        await #expect(throws: BrokerError.unknownMessage(String(repeating: "0", count: 32))) {
            try await broker.decrypt(token: alice, messageID: String(repeating: "0", count: 32), caller: Peers.alice)
        }
        await #expect(throws: BrokerError.invalidParameter(name: "to", reason: "cannot be yourself")) {
            try await broker.send(token: alice, to: "alice", body: Data("x".utf8), mode: "pqc", caller: Peers.alice)
        }
        #expect(try broker.log.head().position == head)
        // A taken name is refused, and recorded: it counts towards the account_farming rule, which bounds
        // how fast one source learns which names exist (security review, issue 16 item 11).
        await #expect(throws: BrokerError.usernameTaken("alice")) {
            try await broker.register(username: "alice", password: "another-password", caller: Peers.carol)
        }
        let recorded = try QSMEvent(try #require(try broker.log.event(at: head + 1)))
        guard case .accessDenied(let denied) = recorded.body else {
            Issue.record("a taken name recorded \(recorded.type)")
            return
        }
        #expect(denied.reason == .usernameTaken && denied.source == "uid:1003" && denied.resourceID == "alice")
        await broker.close()
    }

    @Test func changingThePasswordRewrapsThePrivateKeyAndEndsSessions() async throws {
        let test = try TestBroker()
        let broker = test.broker
        let alice = try await broker.enrol("alice", caller: Peers.alice)
        let bob = try await broker.enrol("bob", caller: Peers.bob)
        let sent = try await broker.send(token: alice, to: "bob", body: Data("pqc for bob".utf8), mode: "pqc", caller: Peers.alice)
        await #expect(throws: BrokerError.badCredentials) {
            try await broker.changePassword(token: bob, oldPassword: "wrong-password", newPassword: "new-bob-password", caller: Peers.bob)
        }
        try await broker.changePassword(token: bob, oldPassword: "bob-password", newPassword: "new-bob-password", caller: Peers.bob)
        await #expect(throws: BrokerError.sessionRevoked) { try await broker.inbox(token: bob, caller: Peers.bob) }
        await #expect(throws: BrokerError.badCredentials) {
            try await broker.login(username: "bob", password: "bob-password", caller: Peers.bob)
        }
        let fresh = try await broker.login(username: "bob", password: "new-bob-password", caller: Peers.bob).token
        // The private key was rewrapped under the new password: the old pqc message still opens.
        #expect(try await broker.decrypt(token: fresh, messageID: sent.messageID, caller: Peers.bob).body == Data("pqc for bob".utf8))
        await broker.close()
    }
}
