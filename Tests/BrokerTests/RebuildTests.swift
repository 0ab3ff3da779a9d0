import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import QSMTesting
import Testing

/// Admin Rebuild beside the live state: it reports which projection differs, and swaps only when asked,
/// only the projection named.
@Suite("Rebuild")
struct RebuildTests {
    /// A broker whose live dashboard came from a stale snapshot (emptied), so it differs from the log's.
    private func brokerWithAStaleDashboard() async throws -> TestBroker {
        var test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        for index in 0..<3 {
            _ = try await test.broker.send(token: alice, to: "bob", body: Data("m\(index)".utf8), mode: "pqc", caller: Peers.alice)
        }
        await test.broker.close()
        // Replace the snapshot with one whose dashboard has forgotten everything, at the same position.
        let log = try EventStore(directory: test.directory.path + "/log")
        // Sealed under the master key as qsmd seals it: a snapshot that is not is refused (SnapshotTamperTests).
        let snapshot = try #require(try log.loadSnapshot(named: "broker"))
        let key = try MasterKey.load(at: test.directory.path + "/master.key")
        let json = snapshot.state.dropFirst(SnapshotSeal.magic.count + SnapshotSeal.codeByteCount)
        var state = try #require(try BrokerState(snapshot: Data(json), rules: test.configuration.rules))
        state.dashboard = DashboardProjection()
        let sealed = SnapshotSeal.seal(try state.snapshotData(), logID: log.meta.logID, position: snapshot.position, key: key)
        try log.saveSnapshot(Snapshot(position: snapshot.position, state: sealed), named: "broker")
        log.close()
        try await test.restart()
        return test
    }

    @Test func aDifferingProjectionIsReportedAndSwappedOnlyWhenAskedAndOnlyItself() async throws {
        let test = try await brokerWithAStaleDashboard()
        let broker = test.broker
        let first = try await broker.rebuild(caller: Peers.admin)
        #expect(first.differences == ["dashboard"])
        #expect(!first.swapped)

        // Swapping another projection changes nothing: users are equal.
        let users = try await broker.rebuild(swap: true, projection: "users", caller: Peers.admin)
        #expect(!users.swapped)
        #expect(try await broker.rebuild(caller: Peers.admin).differences == ["dashboard"])

        let liveUsersBefore = broker.state.users
        let swapped = try await broker.rebuild(swap: true, projection: "dashboard", caller: Peers.admin)
        #expect(swapped.swapped)
        let after = try await broker.rebuild(caller: Peers.admin)
        #expect(after.differences.isEmpty)
        #expect(broker.state.users == liveUsersBefore)
        #expect(broker.state.dashboard.counters.totalEncryptions == 3)
        await broker.close()
    }

    @Test func anUnknownProjectionIsRefused() async throws {
        let test = try TestBroker()
        await #expect(throws: BrokerError.invalidParameter(name: "projection", reason: "no projection named bogus")) {
            try await test.broker.rebuild(swap: true, projection: "bogus", caller: Peers.admin)
        }
        await test.broker.close()
    }
}
