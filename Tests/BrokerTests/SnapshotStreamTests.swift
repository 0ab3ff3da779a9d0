@testable import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

/// The snapshot as a stream of protobuf records: every part of the state in memory comes back equal,
/// equal states give equal bytes, and a stream of another version, or a damaged one, is never taken for
/// a state.
@Suite("Snapshot stream")
struct SnapshotStreamTests {
    /// A state with something in every projection: users (one locked), sessions (one ended), a pool with
    /// consumed bits and an aes block, the intrusion detection's windows, locks and alerts, and the
    /// dashboard's counters, minutes and exchanges.
    private func richState() throws -> BrokerState {
        var scenario = DeciderScenario()
        // Every event type once, with sample fields (among them a retirement of all key material).
        var generator = SeededGenerator(seed: 11)
        for body in SampleEvents.allBodies(using: &generator) { scenario.given(body, actor: "alice") }
        scenario.registered("carol")
        scenario.registered("dave")
        let token = scenario.loggedIn("carol")
        scenario.exchanged("carol", "dave", bits: 8_192)
        for (index, mode) in [QSMMessageMode.otp, .aes, .aes].enumerated() {
            let decided = scenario.when(SendCommand(
                token: token, recipient: "dave", body: Data(repeating: 0x61, count: 32), mode: mode,
                messageID: Data(repeating: UInt8(index + 1), count: 16), sealedPQC: nil,
                aesRotation: AESRotationPolicy(maxMessages: 100, maxAgeMicroseconds: 3_600_000_000)))
            #expect(decided.events.map(\.name) == ["message_sent"])
            scenario.apply(decided.events, actor: "carol")
        }
        _ = scenario.loggedIn("dave")
        // Carol's second factor: enrolled, confirmed, one recovery code spent.
        scenario.given(.secondFactorStarted(QSMSecondFactorStarted.with {
            $0.username = "carol"
            $0.secret = QSMWrappedSecret.with { $0.keyID = "master:1"; $0.sealed = Data(repeating: 9, count: 36) }
            $0.algorithm = "SHA1"
        }), actor: "carol")
        scenario.given(.secondFactorEnabled(QSMSecondFactorEnabled.with {
            $0.username = "carol"
            $0.step = 60_000_000
            $0.recoveryCodeHashes = (0..<10).map { Data(repeating: UInt8($0), count: 32) }
        }), actor: "carol")
        scenario.given(.recoveryCodeUsed(QSMRecoveryCodeUsed.with {
            $0.username = "carol"
            $0.index = 3
        }), actor: "carol")
        // A brute force on dave's account: failures, an alert and a lock.
        for _ in 0..<12 {
            scenario.given(.loginFailed(QSMLoginFailed.with {
                $0.username = "dave"
                $0.reason = .badPassword
                $0.source = "uid:4242"
            }), actor: "dave")
            scenario.now += 1_000_000
        }
        let state = scenario.state
        #expect(!state.ids.alerts.isEmpty && !state.ids.accountFailures.isEmpty, "the workload raised alerts")
        #expect(state.keyPools.pools.values.contains { $0.aesBlock != nil && !$0.pool.consumed.isEmpty })
        #expect(state.dashboard.counters.totalEncryptions >= 3 && !state.dashboard.minutes.isEmpty)
        #expect(state.users.users.values.contains { $0.secondFactor != nil }, "a user has a second factor")
        return state
    }

    @Test func everyPartOfTheStateComesBackEqual() throws {
        let state = try richState()
        let bytes = try state.snapshotData()
        let restored = try #require(try BrokerState(snapshot: bytes, rules: state.ids.rules))
        #expect(restored == state)
        #expect(try restored.digests() == state.digests())
        #expect(try restored.snapshotData() == bytes, "equal states give equal bytes")
        #expect(bytes.first != UInt8(ascii: "{"), "binary, not JSON")
    }

    @Test func anotherVersionIsIgnoredAndADamagedStreamRefused() throws {
        let bytes = try richState().snapshotData()
        // JSON of the earlier versions: another format, so replayed from the log.
        #expect(try BrokerState(snapshot: Data(#"{"version": 5, "position": 3}"#.utf8), rules: IDSRules()) == nil)
        // A header of another version.
        var other = SnapSnapshotRecord()
        other.header = SnapHeader.with {
            $0.version = 99
            $0.position = 3
        }
        let otherBytes: Data = try other.serializedBytes()
        #expect(try BrokerState(snapshot: Data([UInt8(otherBytes.count)]) + otherBytes, rules: IDSRules()) == nil)
        // Cut short, or with a record before the header: refused, never half a state.
        #expect(throws: (any Error).self) { try BrokerState(snapshot: bytes.prefix(bytes.count - 3), rules: IDSRules()) }
        var user = SnapSnapshotRecord()
        user.user = SnapUser.with { $0.name = "mallory" }
        let userBytes: Data = try user.serializedBytes()
        #expect(throws: (any Error).self) {
            try BrokerState(snapshot: Data([UInt8(userBytes.count)]) + userBytes + bytes, rules: IDSRules())
        }
        #expect(throws: (any Error).self) { try BrokerState(snapshot: Data(), rules: IDSRules()) }
    }
}
