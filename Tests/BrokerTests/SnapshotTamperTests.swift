@testable import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMTesting
import Testing

/// A snapshot is trusted on load in place of the events it sums up, so an edited one must be refused:
/// the review added a session to the snapshot in data.mdb and got a working token with no login event
/// (security review, issue 16 item 7). The attack here is the same edit, done with the log's own API:
/// the sessions of an older snapshot (alice logged in) spliced into the newest (alice logged out). The
/// positive control, a snapshot sealed with the master key being used, is RebuildTests' stale dashboard.
@Suite("Snapshots: tampering and fallbacks")
struct SnapshotTamperTests {
    /// The stored snapshot's records and whatever precedes them (the seal, on a broker that seals).
    private func split(_ stored: Data) throws -> (header: Data, records: [SnapSnapshotRecord]) {
        let sealed = stored.starts(with: Data("QSMSNAP".utf8))
        let start = stored.startIndex + (sealed ? 40 : 0)
        var records: [SnapSnapshotRecord] = []
        try SnapshotStream.forEachRecord(in: Data(stored[start...])) {
            records.append($0)
            return true
        }
        return (stored[..<start], records)
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
        let (header, records) = try split(loggedOut.state)
        func isSession(_ record: SnapSnapshotRecord) -> Bool {
            if case .session? = record.entry { return true }
            return false
        }
        // The logged-out snapshot with the logged-in one's sessions in their place.
        var forgedStream = Data()
        for record in records.filter({ !isSession($0) }) + (try split(loggedIn.state).records.filter(isSession)) {
            try SnapshotStream.append(record, to: &forgedStream)
        }
        #expect(try split(loggedIn.state).records.contains(where: isSession), "the spliced snapshot has alice's session")
        let forged = header + forgedStream
        try edit.saveSnapshot(Snapshot(position: loggedOut.position, state: forged), named: "broker")
        edit.close()

        test.broker = try Broker(configuration: test.configuration)
        #expect(test.broker.startReport.snapshotPosition == nil)
        #expect(test.broker.startReport.snapshotRefusal?.contains("does not match") == true, "\(test.broker.startReport)")
        await #expect(throws: BrokerError.sessionRevoked) {
            try await test.broker.inbox(token: token, caller: Peers.alice)
        }
        // The state is the log's: a rebuild finds nothing different.
        #expect(try await test.broker.rebuild(caller: Peers.admin).differences.isEmpty)
        await test.broker.close()
    }

    /// A broker with a few events, closed; the stored snapshot is replaced by what `replace` makes of it
    /// (given the sealed original, the master key and the log id), then the broker is opened again.
    private func reopened(
        replacing replace: (Snapshot, MasterKey, UUID) throws -> Snapshot, cutTo keep: UInt64? = nil
    ) async throws -> (TestBroker, head: UInt64) {
        var test = try TestBroker()
        _ = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        await test.broker.close()
        let log = try EventStore(directory: test.directory.path + "/log")
        let stored = try #require(try log.loadSnapshot(named: "broker"))
        var head = try log.head().position
        let key = try MasterKey.load(at: test.directory.path + "/master.key")
        try log.saveSnapshot(try replace(stored, key, log.meta.logID), named: "broker")
        log.close()
        if let keep {
            // The log cut back with python3-lmdb, the snapshot left describing events it lost.
            let python = ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3"
            let tamper = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path + "/tools/audit/tamper.py"
            let (status, _, stderr) = try await ChildProcess.run(
                python, [tamper, "truncate", "--log", test.directory.path + "/log", "--keep", "\(keep)", "--keep-snapshots"])
            try #require(status == 0, "tamper.py: \(stderr)")
            head = keep
        }
        test.broker = try Broker(configuration: test.configuration)
        return (test, head)
    }

    private func payload(_ stored: Snapshot) -> Data {
        Data(stored.state.dropFirst(SnapshotSeal.magic.count + SnapshotSeal.codeByteCount))
    }

    /// Each way a stored snapshot can be unusable is refused with its reason, and the state replayed from
    /// position 1 equals the log's.
    @Test(arguments: ["ahead", "undecodable", "moved", "unsealed"])
    func anUnusableSnapshotIsReportedAndTheLogReplayed(_ kind: String) async throws {
        let (test, head) = try await reopened(replacing: { stored, key, logID in
            switch kind {
            case "ahead":
                // As qsmd sealed it; the log is cut back below it.
                return stored
            case "undecodable":
                // A record length that runs past the end.
                return Snapshot(position: stored.position, state: SnapshotSeal.seal(
                    Data([0x7F, 0x0A, 0x02]), logID: logID, position: stored.position, key: key))
            case "moved":
                // The state of one position, sealed and stored as of an earlier one.
                let earlier = stored.position - 1
                return Snapshot(position: earlier, state: SnapshotSeal.seal(self.payload(stored), logID: logID, position: earlier, key: key))
            default:
                return Snapshot(position: stored.position, state: self.payload(stored))
            }
        }, cutTo: kind == "ahead" ? 3 : nil)
        let expected = [
            "ahead": "past the log's head", "undecodable": "does not decode", "moved": "holds the state of position",
            "unsealed": "no authentication code",
        ][kind]!
        let report = test.broker.startReport
        #expect(report.snapshotRefusal?.contains(expected) == true, "\(report)")
        #expect(report.snapshotPosition == nil && report.replayedEvents == head, "\(report)")
        #expect(try await test.broker.rebuild(caller: Peers.admin).differences.isEmpty)
        #expect(try await test.broker.login(username: "alice", password: "alice-password", caller: Peers.alice).token.isEmpty == false)
        await test.broker.close()
    }

    /// The control: the snapshot as qsmd sealed it is used, and only the events after it are replayed.
    @Test func theSealedSnapshotIsUsed() async throws {
        let (test, head) = try await reopened { stored, _, _ in stored }
        let report = test.broker.startReport
        #expect(report.snapshotRefusal == nil)
        #expect(report.snapshotPosition == head && report.replayedEvents == 0, "\(report)")
        await test.broker.close()
    }
}
