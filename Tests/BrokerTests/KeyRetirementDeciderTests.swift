@testable import Broker
import Foundation
import QSMCrypto
import QSMEvents
import SwiftProtobuf
import Testing

/// The retirement every start records (security review, issue 16 item 1), decided in memory: what it
/// counts, what folding it does to the pools, and that nothing retired is handed out again, through a
/// snapshot too.
@Suite("Deciders: key material retired at start")
struct KeyRetirementDeciderTests {
    private func send(_ token: PresentedToken, _ mode: QSMMessageMode, id: UInt8) -> SendCommand {
        SendCommand(
            token: token, recipient: "bob", body: Data(repeating: 0x61, count: 16), mode: mode,
            messageID: Data(repeating: id, count: 16), sealedPQC: nil, aesRotation: .default)
    }

    @Test func everyUnusedBitAndTheAESBlockAreRetiredAndNeverHandedOutAgain() throws {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        scenario.registered("bob")
        let token = scenario.loggedIn("alice")
        scenario.exchanged("alice", "bob", bits: 4_096)
        let aes = scenario.when(send(token, .aes, id: 1))
        _ = try aes.outcome.get()
        scenario.apply(aes.events, actor: "alice")
        let unused = try #require(scenario.state.keyPools.pool("alice", "bob")).pool.availableBits
        #expect(unused == 4_096 - 256)

        let retire = scenario.when(RetireKeyMaterialCommand(cause: "start", detail: ""))
        guard retire.events.count == 1, case .keyMaterialRetired(let retired) = retire.events[0] else {
            Issue.record("emitted \(retire.events)")
            return
        }
        #expect(retired.cause == "start" && retired.pairs == 1 && retired.bits == unused)
        scenario.apply(retire.events, actor: "")
        let pair = try #require(scenario.state.keyPools.pool("alice", "bob"))
        #expect(pair.pool.availableBits == 0 && pair.aesBlock == nil)
        #expect(scenario.when(send(token, .otp, id: 2)).outcome.error == .keyPoolShort(needed: 48, available: 0))
        #expect(scenario.when(send(token, .aes, id: 3)).outcome.error == .keyPoolShort(needed: 32, available: 0))

        // A snapshot keeps the retirement (the frontier is not implied by the consumed ranges).
        let restored = try #require(try BrokerState(snapshot: try scenario.state.snapshotData(), rules: IDSRules()))
        #expect(restored.keyPools == scenario.state.keyPools)
        #expect(restored.keyPools.pool("alice", "bob")?.pool.availableBits == 0)

        // A fresh exchange after it is used as usual, from its own bits.
        scenario.exchanged("alice", "bob", bits: 1_024)
        let fresh = scenario.when(send(token, .otp, id: 4))
        guard fresh.events.count == 1, case .messageSent(let sent) = fresh.events[0] else {
            Issue.record("emitted \(fresh.events)")
            return
        }
        #expect(sent.poolRanges.allSatisfy { $0.start >= 4_096 })
    }

    @Test func aStartWithNothingInForceRecordsNothingButAnAcceptedDamagedLogIsAlwaysRecorded() {
        var scenario = DeciderScenario()
        scenario.registered("alice")
        #expect(scenario.when(RetireKeyMaterialCommand(cause: "start", detail: "")).events.isEmpty)
        let accepted = scenario.when(RetireKeyMaterialCommand(cause: "damaged-log-accepted", detail: "the log was cut back"))
        guard accepted.events.count == 1, case .keyMaterialRetired(let retired) = accepted.events[0] else {
            Issue.record("emitted \(accepted.events)")
            return
        }
        #expect(retired.pairs == 0 && retired.detail == "the log was cut back")
    }
}
