@testable import Broker
import EventLog
import Foundation
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

/// The inbox, message index and history live in LMDB tables written with their events: served from
/// disk, brought up to the log's head at start, checked and repaired by Rebuild like any projection.
@Suite("Message tables on disk")
struct MessageTablesTests {
    /// Alice sends bob three messages, and bob reads the first; then the broker is closed.
    private func brokerWithMail() async throws -> (TestBroker, [String]) {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        let bob = try await test.broker.enrol("bob", caller: Peers.bob)
        var ids: [String] = []
        for index in 0..<3 {
            ids.append(try await test.broker.send(
                token: alice, to: "bob", body: Data("m\(index)".utf8), mode: "pqc", caller: Peers.alice).messageID)
        }
        _ = try await test.broker.decrypt(token: bob, messageID: ids[0], caller: Peers.bob)
        await test.broker.close()
        return (test, ids)
    }

    /// Rewrites the tables on disk with `rows` for each event (none: the tables a log had before them),
    /// recorded as written under `layout`.
    private func rewriteTables(
        of test: TestBroker, through: UInt64? = nil, layout: UInt64 = MessageTables.layout,
        rows: @escaping (StoredEvent) throws -> [TableRow] = { _ in [] }
    ) throws {
        var options = EventStore.Options()
        options.tables = MessageTables.names
        options.tablesLayout = layout
        let log = try EventStore(directory: test.directory.path + "/log", options: options)
        try log.rebuildTables(through: through ?? log.head().position) { stored, _ in try rows(stored) }
        log.close()
    }

    @Test func aLogWithoutTablesGetsThemAtStartAndServesTheSameInbox() async throws {
        var (test, ids) = try await brokerWithMail()
        try await test.restart()
        let token = try await test.broker.login(username: "bob", password: "bob-password", caller: Peers.bob).token
        let before = try await test.broker.inboxPage(token: token, caller: Peers.bob)
        let historyBefore = try await test.broker.historyPage(token: token, caller: Peers.bob)
        await test.broker.close()

        // As a log written before the tables (or by EventStore.append): no rows, at position 0.
        try rewriteTables(of: test, through: 0)
        try await test.restart()
        let after = try await test.broker.inboxPage(token: token, caller: Peers.bob)
        #expect(after.items.map(\.messageID) == ids.reversed())
        #expect(after.items.map(\.read) == [false, false, true], "the first message was read")
        #expect(after.items == before.items)
        #expect(after.total == 3)
        let historyAfter = try await test.broker.historyPage(token: token, caller: Peers.bob)
        #expect(historyAfter.items.count >= historyBefore.items.count)
        #expect(Array(historyAfter.items.suffix(historyBefore.items.count)) == historyBefore.items)
        #expect(try await test.broker.rebuild(caller: Peers.admin).differences.isEmpty)
        await test.broker.close()
    }

    @Test func tablesOfAnEarlierLayoutAreWrittenAgainAtStart() async throws {
        var (test, _) = try await brokerWithMail()
        try await test.restart()
        let token = try await test.broker.login(username: "bob", password: "bob-password", caller: Peers.bob).token
        let before = try await test.broker.historyPage(token: token, caller: Peers.bob)
        await test.broker.close()

        // Layout 1 gave a message's recipient a history row as well as the inbox row.
        try rewriteTables(of: test, layout: 1) { stored in
            let event = try QSMEvent(stored)
            var rows = try MessageTables.rows(for: event, tables: TableImage())
            if case .messageSent(let sent) = event.body {
                rows.append(TableRow(table: "history", key: MessageTables.userKey(sent.recipient, event.position), value: []))
            }
            return rows
        }
        try await test.restart()
        let after = try await test.broker.historyPage(token: token, caller: Peers.bob)
        #expect(after.total == before.total)
        #expect(after.items == before.items)
        #expect(try await test.broker.rebuild(caller: Peers.admin).differences.isEmpty)
        await test.broker.close()
    }

    @Test func damagedTablesAreFoundByRebuildAndSwappedBackOneProjectionAtATime() async throws {
        var (test, ids) = try await brokerWithMail()
        // Every row but bob's inbox and his history, as if they were lost; the position stays the head's.
        let history = Array("bob".utf8) + [0]
        try rewriteTables(of: test) { stored in
            let event = try QSMEvent(stored)
            return try MessageTables.rows(for: event, tables: TableImage()).filter { !$0.key.starts(with: history) }
        }
        try await test.restart()
        let broker = test.broker
        let token = try await broker.login(username: "bob", password: "bob-password", caller: Peers.bob).token
        #expect(try await broker.inboxPage(token: token, caller: Peers.bob).items.isEmpty)

        let found = try await broker.rebuild(caller: Peers.admin)
        #expect(found.differences == ["history", "inbox"])
        let inbox = try await broker.rebuild(swap: true, projection: "inbox", caller: Peers.admin)
        #expect(inbox.swapped)
        #expect(try await broker.inboxPage(token: token, caller: Peers.bob).items.map(\.messageID) == ids.reversed())
        #expect(try await broker.rebuild(caller: Peers.admin).differences == ["history"])
        #expect(try await broker.rebuild(swap: true, caller: Peers.admin).swapped)
        #expect(try await broker.rebuild(caller: Peers.admin).differences.isEmpty)
        #expect(try await broker.historyPage(token: token, caller: Peers.bob).total > 3)
        await broker.close()
    }

    @Test func aNameWithANulByteNeverLandsInAnotherUsersHistory() throws {
        var scenario = DeciderScenario()
        scenario.registered("bob")
        let token = scenario.loggedIn("bob")
        let before = try scenario.historyPage(token, limit: 100)
        for typed in ["bob\u{0}x", "bob\u{0}", "bob"] {
            scenario.given(.loginFailed(QSMLoginFailed.with {
                $0.username = typed
                $0.reason = .unknownUser
            }), actor: typed)
        }
        let after = try scenario.historyPage(token, limit: 100)
        #expect(after.total == before.total + 1, "only the failure typed as bob is bob's")
        #expect(after.positions.first == scenario.state.position)
    }
}
