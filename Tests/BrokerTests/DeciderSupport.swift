@testable import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import SwiftProtobuf

/// Given/when/then for the pure deciders: events folded into a state in memory, a command decided against
/// it with a fixed context, and what it emitted. Nothing touches a disk, a clock or a random generator.
struct DeciderScenario {
    var state = BrokerState()
    /// The message tables, in memory, as the writer would have written them on disk.
    var tables = TableImage()
    /// The time of the next event given and of the decision (microseconds).
    var now: Int64 = 1_800_000_000_000_000
    /// A user's peer.
    static let peer = PeerCredentials(uid: 1000, gid: 1000, pid: 4242)

    /// Folds `body` at the next position (and the alerts it derives, as the writer would).
    mutating func given(_ body: QSMEvent.OneOf_Body, actor: String = "") {
        var event = QSMEvent()
        event.position = state.position + 1
        event.recordedAtUs = now
        event.type = body.type.rawValue
        event.actor = actor
        event.body = body
        // Given events are well formed, so their rows and the mode lookup cannot fail.
        for row in (try? MessageTables.rows(for: event, tables: tables)) ?? [] { tables.apply(row) }
        state.evolve(event, decryptedMode: try? MessageTables.decryptedMode(of: event, in: tables))
        for derived in state.ids.takePending() {
            for derivedBody in CommandEvents.events(for: derived) { given(derivedBody, actor: derived.subject) }
        }
    }

    /// Decides `command` against the state given so far.
    func when<Command: BrokerCommand>(_ command: Command, caller: Caller = Caller(peer: peer))
        -> (outcome: Result<Command.Output, BrokerError>, events: [QSMEvent.OneOf_Body])
    {
        var decision = Decision(now: now, caller: caller, correlationID: Data(repeating: 7, count: 16))
        let outcome = command.decide(state, &decision)
        return (outcome, decision.events.map(\.body))
    }

    /// The message `id` (hex) as the message index holds it.
    func message(_ id: String) -> InboxEntry? {
        try? MessageTables.message(id, in: tables)
    }

    /// An Inbox call: the command decided, then the page read from the tables, as the broker does.
    func inboxPage(_ token: PresentedToken, unreadOnly: Bool = false, limit: Int, before: UInt64? = nil) throws -> Page<InboxEntry> {
        let user = try when(InboxCommand(token: token)).outcome.get()
        let page = try MessageTables.inboxPage(of: user, unreadOnly: unreadOnly, limit: limit, before: before, in: tables)
        return Page(
            items: page.entries, total: page.total, more: page.more,
            cursor: page.more > 0 ? page.entries.last.map { String($0.position) } : nil)
    }

    /// A History call's positions: the command decided, then the page read from the tables.
    func historyPage(_ token: PresentedToken, limit: Int, before: UInt64? = nil) throws -> (positions: [UInt64], total: Int, more: Int) {
        let user = try when(HistoryCommand(token: token)).outcome.get()
        return try MessageTables.historyPage(of: user, limit: limit, before: before, in: tables)
    }

    // MARK: Events

    mutating func registered(_ name: String) {
        given(.userRegistered(QSMUserRegistered.with {
            $0.username = name
            $0.passwordHash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"
            $0.pqcPublicKey = Data(repeating: 1, count: 8)
        }), actor: name)
    }

    /// Logs `name` in; returns the token a client would present.
    mutating func loggedIn(_ name: String, lifetimeSeconds: Int64 = 8 * 3_600) -> PresentedToken {
        let token = SessionToken()
        given(.loginSucceeded(QSMLoginSucceeded.with {
            $0.username = name
            $0.sessionID = token.sessionID
            $0.expiresAtUs = now + lifetimeSeconds * 1_000_000
        }), actor: name)
        return PresentedToken(token.transportEncoding)
    }

    /// The user's credential version (what a password is verified against).
    func version(_ name: String) -> UInt64 { state.users[name]?.credentialVersion ?? .max }

    /// A completed exchange between `a` and `b` of `bits` key bits, placed where the pool ends.
    mutating func exchanged(_ a: String, _ b: String, bits: UInt64) {
        let offset = state.keyPools.pool(a, b)?.pool.nextSegmentStart ?? 0
        given(.keyExchangeCompleted(QSMKeyExchangeCompleted.with {
            $0.exchangeID = Data(repeating: UInt8(truncatingIfNeeded: state.position), count: 16)
            $0.initiator = a
            $0.peer = b
            $0.keyID = "qkd-\(state.position)"
            $0.figures = QSMBB84Figures.with { $0.finalBits = bits }
            $0.key = QSMWrappedSecret.with { $0.keyID = "qkd-\(state.position)" }
            $0.poolOffset = offset
        }), actor: a)
    }

    /// Folds what `command` emitted, as the writer does after a decision.
    mutating func apply(_ events: [QSMEvent.OneOf_Body], actor: String) {
        for body in events { given(body, actor: actor) }
    }
}

extension QSMEvent.OneOf_Body {
    /// The event type's name, for compact expectations.
    var name: String { type.name }
}
