@testable import Broker
import Foundation
import QSMCrypto
import QSMEvents
import SwiftProtobuf
import Testing

/// EstablishKey, Send (otp, aes, pqc), Decrypt, Inbox, History and Dashboard, decided in memory: the key
/// material a Send reserves is visible in its event before anything is sealed.
@Suite("Deciders: keys and messages")
struct MessagingDeciderTests {
    static let policy = AESRotationPolicy(maxMessages: 2, maxAgeMicroseconds: 3_600_000_000)

    private func scenarioWithPair(bits: UInt64 = 8_192) -> (DeciderScenario, PresentedToken) {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        scenario.registered("bob")
        let token = scenario.loggedIn("alice")
        if bits > 0 { scenario.exchanged("alice", "bob", bits: bits) }
        return (scenario, token)
    }

    private func send(_ token: PresentedToken, _ mode: QSMMessageMode, bytes: Int = 64, id: UInt8 = 1,
                      to recipient: String = "bob", sealed: PQCSealedForContext? = nil) -> SendCommand {
        SendCommand(
            token: token, recipient: recipient, body: Data(repeating: 0x61, count: bytes), mode: mode,
            messageID: Data(repeating: id, count: 16), sealedPQC: sealed, aesRotation: Self.policy)
    }

    private func sent(_ events: [QSMEvent.OneOf_Body]) -> QSMMessageSent? {
        guard events.count == 1, case .messageSent(let sent) = events[0] else { return nil }
        return sent
    }

    @Test func otpReservesFreshPoolBitsForEveryMessageAndNeverTheSameTwice() throws {
        var (scenario, token) = scenarioWithPair()
        let first = scenario.when(send(token, .otp, bytes: 64))
        #expect(try first.outcome.get().position == scenario.state.position + 1)
        let one = try #require(sent(first.events))
        #expect(one.poolRanges.map { [$0.start, $0.length] } == [[0, 256 + 64 * 8]])
        #expect(one.ciphertext.isEmpty, "the writer seals after the decision")
        scenario.apply(first.events, actor: "alice")
        let second = scenario.when(send(token, .otp, bytes: 10, id: 2))
        let two = try #require(sent(second.events))
        #expect(two.poolRanges.map { [$0.start, $0.length] } == [[768, 256 + 80]])
    }

    @Test func otpOnAShortPoolIsRefusedWithTheShortfallAndEmitsNothing() {
        let (scenario, token) = scenarioWithPair(bits: 512)
        let (outcome, events) = scenario.when(send(token, .otp, bytes: 64))
        #expect(outcome.error == .keyPoolShort(needed: 96, available: 64))
        #expect(events.isEmpty)
        let (noPool, noPoolToken) = scenarioWithPair(bits: 0)
        #expect(noPool.when(send(noPoolToken, .otp)).outcome.error == .keyPoolShort(needed: 96, available: 0))
    }

    @Test func aesTakesABlockThenItsCountersThenRotates() throws {
        var (scenario, token) = scenarioWithPair()
        var seen: [(ranges: [UInt64], counter: UInt64)] = []
        for id in 1...3 {
            let decided = scenario.when(send(token, .aes, id: UInt8(id)))
            let message = try #require(sent(decided.events))
            seen.append((message.poolRanges.flatMap { [$0.start, $0.length] }, message.blockCounter))
            scenario.apply(decided.events, actor: "alice")
        }
        // Two messages per block (the policy above): the third takes the next 256 bits at counter 0.
        #expect(seen.map(\.ranges) == [[0, 256], [0, 256], [256, 256]])
        #expect(seen.map(\.counter) == [0, 1, 0])
    }

    @Test func anAESBlockRotatesWithAge() throws {
        var (scenario, token) = scenarioWithPair()
        let first = scenario.when(send(token, .aes))
        scenario.apply(first.events, actor: "alice")
        scenario.now += Self.policy.maxAgeMicroseconds
        let later = try #require(sent(scenario.when(send(token, .aes, id: 2)).events))
        #expect(later.poolRanges.map(\.start) == [256])
    }

    @Test func pqcTakesOnlyCiphertextSealedForThisSenderRecipientAndMessage() throws {
        let (scenario, token) = scenarioWithPair(bits: 0)
        let id = Data(repeating: 1, count: 16)
        let sealed = PQCSealed(encapsulatedKey: Data([1, 2, 3]), ciphertext: Data([4, 5]))
        let copy = PQCSealed(encapsulatedKey: Data([6, 7]), ciphertext: Data([8, 9]))
        let right = PQCSealedForContext(
            sealed: sealed, senderCopy: copy, context: MessageAAD(messageID: id, sender: "alice", recipient: "bob"))
        let message = try #require(sent(scenario.when(send(token, .pqc, sealed: right)).events))
        #expect(message.encapsulatedKey == Data([1, 2, 3]))
        #expect(message.ciphertext == Data([4, 5]))
        #expect(message.senderEncapsulatedKey == Data([6, 7]), "the sender's copy travels in the same event")
        #expect(message.senderCiphertext == Data([8, 9]))
        let forMallory = PQCSealedForContext(
            sealed: sealed, senderCopy: copy, context: MessageAAD(messageID: id, sender: "mallory", recipient: "bob"))
        let refused = scenario.when(send(token, .pqc, sealed: forMallory))
        #expect(refused.outcome.error == .unavailable("the session changed while sealing: try again"))
        #expect(refused.events.isEmpty)
    }

    @Test func sendRefusesYourselfUnknownRecipientsAndThrottledSenders() {
        var (scenario, token) = scenarioWithPair()
        #expect(scenario.when(send(token, .aes, to: "alice")).outcome.error
            == .invalidParameter(name: "to", reason: "cannot be yourself"))
        #expect(scenario.when(send(token, .aes, to: "carol")).outcome.error == .unknownUser("carol"))
        var rules = IDSRules()
        rules.sendFlood = .init(count: 2, windowSeconds: 60)
        scenario.state.ids.rules = rules
        for id in 1...3 {
            let decided = scenario.when(send(token, .aes, id: UInt8(id)))
            scenario.apply(decided.events, actor: "alice")
        }
        let throttled = scenario.when(send(token, .aes, id: 9))
        guard case .throttled(let until)? = throttled.outcome.error else {
            Issue.record("expected a throttle, got \(throttled.outcome)")
            return
        }
        #expect(until > scenario.now)
    }

    @Test func keyExchangesAppendToThePoolOrAbortWithTheirFigures() throws {
        var (scenario, token) = scenarioWithPair(bits: 0)
        func outcome(_ bits: UInt64, abort: Bool = false) -> ExchangeOutcome {
            ExchangeOutcome(
                exchangeID: Data(repeating: UInt8(bits % 251), count: 16), initiator: "alice", peer: "bob",
                keyID: "qkd-\(bits)", figures: QSMBB84Figures.with {
                    $0.finalBits = bits
                    $0.qber = abort ? 0.25 : 0.01
                    $0.abortThreshold = 0.11
                }, wrappedKey: abort ? nil : QSMWrappedSecret.with { $0.keyID = "qkd-\(bits)" },
                abort: abort ? (.qberAboveThreshold, "QBER above the threshold") : nil)
        }
        let first = scenario.when(EstablishKeyCommand(token: token, peer: "bob", outcome: outcome(1_003)))
        #expect(try first.outcome.get().finalBits == 1_003)
        scenario.apply(first.events, actor: "alice")
        let second = scenario.when(EstablishKeyCommand(token: token, peer: "bob", outcome: outcome(2_000)))
        guard case .keyExchangeCompleted(let completed)? = second.events.first else {
            Issue.record("expected a completed exchange, got \(second.events.map(\.name))")
            return
        }
        #expect(completed.poolOffset == 1_008, "the next segment starts on the byte after the first")

        let aborted = scenario.when(EstablishKeyCommand(token: token, peer: "bob", outcome: outcome(0, abort: true)))
        #expect(aborted.events.map(\.name) == ["key_exchange_aborted"])
        guard case .keyExchangeAborted? = aborted.outcome.error else {
            Issue.record("expected an abort, got \(aborted.outcome)")
            return
        }
        #expect(scenario.when(EstablishKeyCommand(token: token, peer: "alice", outcome: nil)).outcome.error
            == .invalidParameter(name: "peer", reason: "cannot be yourself"))
        #expect(scenario.when(EstablishKeyCommand(token: token, peer: "carol", outcome: nil)).outcome.error
            == .unknownUser("carol"))
        #expect(scenario.when(EstablishKeyCommand(token: token, peer: "bob", outcome: nil)).outcome.error
            == .unavailable("the session changed during the exchange: try again"))
    }

    @Test func theRecipientAndTheSenderDecryptAndEveryOtherReaderIsRecorded() throws {
        var (scenario, aliceToken) = scenarioWithPair()
        scenario.registered("carol")
        let decided = scenario.when(send(aliceToken, .aes))
        let id = try decided.outcome.get().messageID
        scenario.apply(decided.events, actor: "alice")
        let bobToken = scenario.loggedIn("bob")
        let carolToken = scenario.loggedIn("carol")

        let read = scenario.when(DecryptCommand(token: bobToken, messageID: id, message: scenario.message(id), opened: .success(Data("hi".utf8))))
        #expect(try read.outcome.get().body == Data("hi".utf8))
        #expect(read.events.map(\.name) == ["message_decrypted"])

        let byCarol = scenario.when(DecryptCommand(token: carolToken, messageID: id, message: scenario.message(id), opened: nil))
        #expect(byCarol.outcome.error == .notOwner(resource: "message \(id)"))
        guard case .accessDenied(let denied)? = byCarol.events.first else {
            Issue.record("expected an access_denied, got \(byCarol.events.map(\.name))")
            return
        }
        #expect(denied.owner == "bob")
        #expect(denied.reason == .notOwner)

        let unknown = String(repeating: "0", count: 32)
        #expect(scenario.when(DecryptCommand(token: bobToken, messageID: unknown, message: scenario.message(unknown), opened: nil)).outcome.error
            == .unknownMessage(unknown))
        #expect(scenario.when(DecryptCommand(token: bobToken, messageID: id, message: scenario.message(id), opened: nil)).outcome.error
            == .unavailable("the session changed while decrypting: try again"))
    }

    @Test func theSenderReadsTheirOwnMessageWithoutARefusalAndTheRecipientsInboxStaysUnread() throws {
        var (scenario, aliceToken) = scenarioWithPair()
        let decided = scenario.when(send(aliceToken, .otp))
        let id = try decided.outcome.get().messageID
        scenario.apply(decided.events, actor: "alice")
        _ = scenario.loggedIn("bob")

        // Three reads by the sender: each a message_decrypted with reader == sender, none an access_denied.
        for _ in 1...3 {
            let own = scenario.when(DecryptCommand(token: aliceToken, messageID: id, message: scenario.message(id), opened: .success(Data("hi".utf8))))
            let message = try own.outcome.get()
            #expect(message.body == Data("hi".utf8))
            #expect(message.from == "alice")
            #expect(message.to == "bob")
            #expect(own.events.map(\.name) == ["message_decrypted"])
            guard case .messageDecrypted(let decrypted)? = own.events.first else { return }
            #expect(decrypted.reader == "alice")
            #expect(decrypted.sender == "alice")
            scenario.apply(own.events, actor: "alice")
        }
        #expect(scenario.state.ids.pending.isEmpty && scenario.state.ids.alerts.isEmpty, "reading one's own message is never an alert")
        #expect(scenario.message(id)?.read == false, "the sender's read does not mark bob's copy read")
        let history = try scenario.historyPage(aliceToken, limit: 3).positions
        #expect(history.count == 3)

        // An old pqc message without a sender copy: the clear error, still no refusal recorded.
        let pqc = scenario.when(DecryptCommand(
            token: aliceToken, messageID: id, message: scenario.message(id), opened: .failure(.noSenderCopy(messageID: id))))
        #expect(pqc.outcome.error == .noSenderCopy(messageID: id))
        #expect(pqc.events.isEmpty)
    }

    @Test func inboxAndHistoryPageWithTotalsAndACursor() throws {
        var (scenario, aliceToken) = scenarioWithPair()
        for id in 1...5 {
            let decided = scenario.when(send(aliceToken, .otp, bytes: 8, id: UInt8(id)))
            scenario.apply(decided.events, actor: "alice")
        }
        let bobToken = scenario.loggedIn("bob")
        let first = try scenario.inboxPage(bobToken, limit: 2)
        #expect(first.items.map(\.messageID) == [Data(repeating: 5, count: 16).hex, Data(repeating: 4, count: 16).hex])
        #expect(first.total == 5)
        #expect(first.more == 3)
        let cursor = try #require(first.cursor)
        let second = try scenario.inboxPage(bobToken, limit: 2, before: try Page<InboxEntry>.position(cursor))
        #expect(second.items.map(\.messageID) == [Data(repeating: 3, count: 16).hex, Data(repeating: 2, count: 16).hex])
        #expect(second.total == 5)
        #expect(second.more == 1)
        let last = try scenario.inboxPage(bobToken, limit: 2, before: try Page<InboxEntry>.position(second.cursor))
        #expect(last.items.map(\.messageID) == [Data(repeating: 1, count: 16).hex])
        #expect(last.more == 0)
        #expect(last.cursor == nil, "the last page has no cursor")

        let history = try scenario.historyPage(aliceToken, limit: 4)
        #expect(history.total == 8, "registration, login, the exchange and five sends")
        #expect(history.more == history.total - 4)
        let older = try scenario.historyPage(aliceToken, limit: 100, before: history.positions.last)
        #expect(older.positions.count == history.total - 4)
        #expect(Set(older.positions).isDisjoint(with: history.positions))
        #expect(throws: BrokerError.invalidParameter(name: "cursor", reason: "is not a cursor from a previous reply")) {
            try Page<InboxEntry>.position("abc")
        }
    }

    @Test func inboxHistoryAndDashboardAnswerWithoutEmitting() throws {
        var (scenario, aliceToken) = scenarioWithPair()
        for id in 1...3 {
            let decided = scenario.when(send(aliceToken, .otp, bytes: 8, id: UInt8(id)))
            scenario.apply(decided.events, actor: "alice")
        }
        let bobToken = scenario.loggedIn("bob")
        let inbox = scenario.when(InboxCommand(token: bobToken))
        #expect(try inbox.outcome.get() == "bob")
        #expect(inbox.events.isEmpty)
        #expect(try scenario.inboxPage(bobToken, limit: 2).items.map(\.messageID)
            == [Data(repeating: 3, count: 16).hex, Data(repeating: 2, count: 16).hex])
        #expect(try scenario.inboxPage(aliceToken, limit: 10).items.isEmpty)

        let history = scenario.when(HistoryCommand(token: aliceToken))
        #expect(try history.outcome.get() == "alice")
        #expect(history.events.isEmpty)
        #expect(try scenario.historyPage(aliceToken, limit: 100).positions == [7, 6, 5, 4, 3, 1],
            "her sends, the exchange, her login and registration")

        let dashboard = scenario.when(DashboardCommand(token: bobToken, minutes: 5))
        #expect(try dashboard.outcome.get().counters.encryptions["otp"] == 3)
        #expect(dashboard.events.isEmpty)
    }
}
