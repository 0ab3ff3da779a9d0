@testable import Broker
import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Testing

/// A rebuild's replay on three threads folds exactly what one thread folds, and stops on a bad record.
@Suite struct ParallelReplayTests {
    /// Alice and bob exchange messages, some read: twenty-odd events, several chunks of the small sizes.
    private func brokerWithTraffic() async throws -> TestBroker {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        let bob = try await test.broker.enrol("bob", caller: Peers.bob)
        for index in 0..<12 {
            let sent = try await test.broker.send(
                token: alice, to: "bob", body: Data("m\(index)".utf8), mode: index % 2 == 0 ? "pqc" : "aes", caller: Peers.alice)
            if index % 3 == 0 { _ = try await test.broker.decrypt(token: bob, messageID: sent.messageID, caller: Peers.bob) }
        }
        await test.broker.close()
        return test
    }

    /// The fold a rebuild did before, one event at a time.
    private func foldOnOneThread(_ log: EventStore, rules: IDSRules) throws -> (BrokerState, TableImage) {
        var state = BrokerState(rules: rules)
        var tables = TableImage()
        try StateLoader.fold(store: log, after: 0, through: log.head().position) { event in
            for row in try MessageTables.rows(for: event, tables: tables) { tables.apply(row) }
            state.evolve(event, decryptedMode: try MessageTables.decryptedMode(of: event, in: tables))
        }
        return (state, tables)
    }

    @Test(arguments: [1, 7, 1024])
    func foldsWhatOneThreadFolds(chunkSize: Int) async throws {
        let test = try await brokerWithTraffic()
        let log = try EventStore(directory: test.directory.path + "/log", mode: .readOnly)
        defer { log.close() }
        let (expectedState, expectedTables) = try foldOnOneThread(log, rules: test.configuration.rules)
        let (state, tables) = try await ParallelReplay(
            state: BrokerState(rules: test.configuration.rules), tables: TableImage(), chunkSize: chunkSize, queuedChunks: 2
        ).run(store: log, through: try log.head().position)
        #expect(state.position == expectedState.position && state.position >= 20, "\(state.position) events")
        #expect(try state.digests() == expectedState.digests())
        #expect(tables == expectedTables)
        #expect(tables.count(in: "reads") == 4)
    }

    @Test func aRecordThatDoesNotDecodeStopsItWithTheError() async throws {
        let test = try await brokerWithTraffic()
        let log = try EventStore(directory: test.directory.path + "/log")
        // A UserRegistered whose body is not protobuf, after the good events.
        let bad = NewEvent(type: 16, schemaVersion: 1, actor: "mallory", body: Data([0xFF, 0xFF, 0xFF]))
        let position = try await log.append([bad])[0]
        let failure = await #expect(throws: (any Error).self) {
            try await ParallelReplay(
                state: BrokerState(rules: test.configuration.rules), tables: TableImage(), chunkSize: 4, queuedChunks: 1
            ).run(store: log, through: position)
        }
        #expect(failure != nil)
        log.close()
    }
}
