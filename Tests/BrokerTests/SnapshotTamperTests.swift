import Broker
import EventLog
import Foundation
import QSMTesting
import Testing

/// A snapshot is trusted on load in place of the events it sums up, so an edited one must be refused:
/// the review added a session to the snapshot in data.mdb and got a working token with no login event
/// (security review, issue 16 item 7). The attack here is the same edit, done with the log's own API:
/// the sessions of an older snapshot (alice logged in) spliced into the newest (alice logged out). The
/// positive control, a snapshot sealed with the master key being used, is RebuildTests' stale dashboard.
@Suite("Snapshot tampering")
struct SnapshotTamperTests {
    /// The stored snapshot's JSON and whatever precedes it (the seal, on a broker that seals).
    private func split(_ stored: Data) throws -> (header: Data, json: [String: Any]) {
        let start = try #require(stored.firstIndex(of: UInt8(ascii: "{")))
        let json = try #require(try JSONSerialization.jsonObject(with: stored[start...]) as? [String: Any])
        return (stored[..<start], json)
    }

    @Test func anEditedSnapshotIsRefusedAndTheLogReplayedInstead() async throws {
        var test = try TestBroker()
        let token = try await test.broker.enrol("alice", caller: Peers.alice)
        await test.broker.close()
        let log = try EventStore(directory: test.directory.path + "/log")
        let loggedIn = try #require(try log.loadSnapshot(named: "broker"))
        log.close()

        test.broker = try Broker(configuration: test.configuration)
        try await test.broker.logout(token: token, caller: Peers.alice)
        await test.broker.close()
        let edit = try EventStore(directory: test.directory.path + "/log")
        let loggedOut = try #require(try edit.loadSnapshot(named: "broker"))
        var (header, json) = try split(loggedOut.state)
        json["sessions"] = try split(loggedIn.state).json["sessions"]
        let forged = header + (try JSONSerialization.data(withJSONObject: json))
        try edit.saveSnapshot(Snapshot(position: loggedOut.position, state: forged), named: "broker")
        edit.close()

        test.broker = try Broker(configuration: test.configuration)
        await #expect(throws: BrokerError.sessionRevoked) {
            try await test.broker.inbox(token: token, caller: Peers.alice)
        }
        // The state is the log's: a rebuild finds nothing different.
        #expect(try await test.broker.rebuild(caller: Peers.admin).differences.isEmpty)
        await test.broker.close()
    }
}
