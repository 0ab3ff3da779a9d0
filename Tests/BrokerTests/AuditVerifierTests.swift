import Broker
import EventLog
import Foundation
import QSMCrypto
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

/// Every check of AuditVerifier, each reached on a log made for it (real LMDB, checkpoints signed with a
/// real ML-DSA-65 key) and named in the report. A changed byte under the hash chain is AuditTests'
/// (tools/audit/tamper.py edits the LMDB file); everything else is here.
@Suite("AuditVerifier: every check")
struct AuditVerifierTests {
    /// A log of 10 messages with a good checkpoint signing position 10 at position 11, then 4 more messages.
    final class Fixture {
        let directory: TemporaryDirectory
        let store: EventStore
        let key: BrokerSigningKey
        /// The good checkpoint's witness record.
        let good: WitnessRecord

        init() async throws {
            directory = try TemporaryDirectory(prefix: "qsm-audit-verifier")
            store = try EventStore(directory: directory.appending("log"))
            key = try BrokerSigningKey.ephemeral()
            try await Self.messages(10, to: store)
            good = try await Self.checkpoint(signing: 10, in: store, key: key)
            try await Self.messages(4, to: store)
        }

        deinit { store.close() }

        static func messages(_ count: Int, to store: EventStore) async throws {
            var generator = SeededGenerator(seed: 3)
            _ = try await store.append((0..<count).map { _ in try SampleEvents.message(using: &generator) })
        }

        /// Appends a checkpoint of `position` signed by `key`; `statement` and `signature` override the
        /// honest ones. Returns the witness record a broker would write for it.
        @discardableResult
        static func checkpoint(
            signing position: UInt64, in store: EventStore, key: BrokerSigningKey, chainHash: Data? = nil,
            keyID: Data? = nil, alter: (inout Data) -> Void = { _ in }
        ) async throws -> WitnessRecord {
            let hash = try chainHash ?? #require(try store.chainHash(at: position))
            let statement = CheckpointStatement(logID: store.meta.logID, position: position, chainHash: hash)
            var signature = try key.signature(for: statement.signedBytes)
            alter(&signature)
            let event = try NewEvent(.checkpointSigned(.with {
                $0.checkpointPosition = position
                $0.chainHash = hash
                $0.signature = signature
                $0.algorithm = BrokerSigningKey.algorithm
                $0.publicKeyID = keyID ?? key.publicKeyID
            }))
            let at = try await store.append([event], recordedAtMicros: 1_800_000_000_000_000)[0]
            return WitnessRecord(
                statement: statement, eventPosition: at, recordedAtMicros: 1_800_000_000_000_000, signature: signature,
                publicKeyID: keyID ?? key.publicKeyID)
        }

        func verify(witness: [WitnessRecord] = [], publicKey: Data? = nil) async throws -> AuditVerifier.Report {
            try await AuditVerifier(store: store, publicKey: publicKey ?? key.publicKey, witness: witness).verify()
        }
    }

    /// The one problem `report` names: at `position`, saying `words`.
    private func expectOnly(_ report: AuditVerifier.Report, at position: UInt64, saying words: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!report.isValid, sourceLocation: sourceLocation)
        #expect(report.problems.count == 1, "\(report.problems)", sourceLocation: sourceLocation)
        #expect(report.firstProblem?.position == position, "\(report.problems)", sourceLocation: sourceLocation)
        #expect(report.firstProblem?.description.contains(words) == true, "\(report.problems)", sourceLocation: sourceLocation)
    }

    @Test func aSoundLogAndItsWitnessVerify() async throws {
        let log = try await Fixture()
        let report = try await log.verify(witness: [log.good])
        #expect(report.isValid, "\(report.problems)")
        #expect(report.chain.isValid && report.chain.verifiedEvents == 15)
        #expect(report.checkpointsVerified == 1 && report.lastSignedPosition == 10 && report.lastCheckpointEvent == 11)
        #expect(report.witnessRecords == 1)
    }

    @Test func aCheckpointThatDoesNotDecodeIsNamed() async throws {
        let log = try await Fixture()
        // A record of the checkpoint type whose body is not a checkpoint (a truncated length-delimited field).
        let broken = NewEvent(
            type: EventType.checkpointSigned.rawValue, schemaVersion: 1, actor: "", correlationID: Data(), peer: nil,
            body: Data([0x0A, 0x7F, 0x01]))
        let at = try await log.store.append([broken])[0]
        expectOnly(try await log.verify(), at: at, saying: "checkpoint event does not decode")
    }

    @Test func aCheckpointSignedByAnotherKeyIsNamed() async throws {
        let log = try await Fixture()
        let other = try BrokerSigningKey.ephemeral()
        let record = try await Fixture.checkpoint(signing: 12, in: log.store, key: other)
        expectOnly(try await log.verify(), at: record.eventPosition, saying: "signed by another key")
        #expect(try await log.verify().checkpointsVerified == 1)
    }

    @Test func aForgedSignatureIsNamed() async throws {
        let log = try await Fixture()
        let record = try await Fixture.checkpoint(signing: 12, in: log.store, key: log.key) { $0[7] ^= 0x01 }
        expectOnly(try await log.verify(), at: record.eventPosition, saying: "does not verify: the checkpoint was forged or altered")
    }

    @Test func aCheckpointOfItsOwnOrALaterPositionIsNamed() async throws {
        let log = try await Fixture()
        // Position 16 is the checkpoint's own; 20 is beyond it. Both are honestly signed statements.
        let own = try await Fixture.checkpoint(signing: 16, in: log.store, key: log.key, chainHash: Data(repeating: 1, count: 32))
        #expect(own.eventPosition == 16)
        expectOnly(try await log.verify(), at: 16, saying: "checkpoint signs position 16, not before it")
        let later = try await Fixture.checkpoint(signing: 20, in: log.store, key: log.key, chainHash: Data(repeating: 2, count: 32))
        let report = try await log.verify()
        #expect(report.problems.map(\.position) == [16, later.eventPosition], "\(report.problems)")
        #expect(report.problems.last?.description.contains("checkpoint signs position 20, not before it") == true)
    }

    @Test func aSignedChainHashTheLogNoLongerHasIsNamed() async throws {
        let log = try await Fixture()
        // What a rewrite with a recomputed chain leaves: a good signature over a hash the log does not have.
        let record = try await Fixture.checkpoint(signing: 13, in: log.store, key: log.key, chainHash: Data(repeating: 9, count: 32))
        let report = try await log.verify()
        expectOnly(report, at: 13, saying: "the chain hash at 13 differs from the one signed at \(record.eventPosition)")
        #expect(report.firstProblem?.description.contains("events after 10 and up to 13 were rewritten") == true)
        #expect(report.checkpointsVerified == 1 && report.lastSignedPosition == 10)
    }

    @Test func aWitnessOfAnotherLogIsNamed() async throws {
        let log = try await Fixture()
        let other = CheckpointStatement(logID: UUID(), position: 10, chainHash: log.good.statement.chainHash)
        let record = WitnessRecord(
            statement: other, eventPosition: 11, recordedAtMicros: 0, signature: try log.key.signature(for: other.signedBytes),
            publicKeyID: log.key.publicKeyID)
        expectOnly(try await log.verify(witness: [record, log.good]), at: 0, saying: "the witness is of another log")
    }

    @Test func aWitnessRecordNotSignedByThisKeyIsNamed() async throws {
        let log = try await Fixture()
        let statement = log.good.statement
        let other = try BrokerSigningKey.ephemeral()
        let byOther = WitnessRecord(
            statement: statement, eventPosition: 11, recordedAtMicros: 0, signature: try other.signature(for: statement.signedBytes),
            publicKeyID: other.publicKeyID)
        expectOnly(try await log.verify(witness: [byOther]), at: 10, saying: "witness record for position 10 is not signed by this key")
        var altered = log.good.signature
        altered[3] ^= 0x80
        let forged = WitnessRecord(
            statement: statement, eventPosition: 11, recordedAtMicros: 0, signature: altered, publicKeyID: log.key.publicKeyID)
        expectOnly(try await log.verify(witness: [forged]), at: 10, saying: "is not signed by this key")
    }

    @Test func aWitnessBeyondTheHeadNamesATruncation() async throws {
        let log = try await Fixture()
        let statement = log.good.statement
        let beyond = WitnessRecord(
            statement: statement, eventPosition: 40, recordedAtMicros: 0, signature: log.good.signature, publicKeyID: log.key.publicKeyID)
        expectOnly(try await log.verify(witness: [beyond]), at: 16, saying: "the log was truncated: the witness saw a checkpoint at 40")
    }

    @Test func aWitnessedChainHashTheLogNoLongerHasIsNamed() async throws {
        let log = try await Fixture()
        let statement = CheckpointStatement(logID: log.store.meta.logID, position: 12, chainHash: Data(repeating: 5, count: 32))
        let record = WitnessRecord(
            statement: statement, eventPosition: 11, recordedAtMicros: 0, signature: try log.key.signature(for: statement.signedBytes),
            publicKeyID: log.key.publicKeyID)
        expectOnly(try await log.verify(witness: [record]), at: 12, saying: "differs from the one the witness saw: the log was rewritten")
    }

    @Test func aWitnessedCheckpointThatIsGoneOrChangedIsNamed() async throws {
        let log = try await Fixture()
        // The statement and the chain hash hold, but the event the witness copied is not there: position 5
        // is a message, and at 11 another signature would not be the one seen.
        let moved = WitnessRecord(
            statement: log.good.statement, eventPosition: 5, recordedAtMicros: 0, signature: log.good.signature,
            publicKeyID: log.key.publicKeyID)
        expectOnly(try await log.verify(witness: [moved]), at: 5, saying: "the checkpoint the witness saw at 5 is gone or changed")
        // At a position that holds another good checkpoint (of position 12): not the one the witness saw.
        let next = try await Fixture.checkpoint(signing: 12, in: log.store, key: log.key)
        let elsewhere = WitnessRecord(
            statement: log.good.statement, eventPosition: next.eventPosition, recordedAtMicros: 0, signature: log.good.signature,
            publicKeyID: log.key.publicKeyID)
        expectOnly(try await log.verify(witness: [elsewhere, next]), at: next.eventPosition, saying: "is gone or changed")
    }
}
