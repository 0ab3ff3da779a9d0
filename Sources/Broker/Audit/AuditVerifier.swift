public import EventLog
public import Foundation
import QSMEvents
import Crypto

/// Checks a log for audit: the hash chain from position 1, every signed checkpoint against the broker's
/// public key, and, given a witness file kept elsewhere, that the log was neither truncated nor
/// rewritten behind what the witness saw. Read-only; works beside a running broker, on LMDB or PostgreSQL.
public struct AuditVerifier {
    /// Something wrong, at the position where it shows.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public let position: UInt64
        public let description: String
    }

    /// What the audit found.
    public struct Report: Sendable {
        /// The hash chain's own check.
        public let chain: VerificationReport
        /// Checkpoints whose signature and chain hash hold, and the highest position they vouch for.
        public let checkpointsVerified: Int
        public let lastSignedPosition: UInt64
        /// The position of the last good checkpoint's own event (0: none).
        public let lastCheckpointEvent: UInt64
        /// Witness records checked.
        public let witnessRecords: Int
        /// Every problem found, lowest position first.
        public let problems: [Problem]
        public var isValid: Bool { problems.isEmpty }
        /// The first bad position and what is wrong there.
        public var firstProblem: Problem? { problems.first }
    }

    let store: any LogStore
    let publicKey: Data
    let witness: [WitnessRecord]

    /// - Parameters:
    ///   - publicKey: the broker's ML-DSA-65 public key (raw), from a copy kept apart from the data if
    ///     the audit is to survive someone who controls the data directory.
    ///   - witness: records from a witness file (none: no truncation or rewrite check against one).
    public init(store: any LogStore, publicKey: Data, witness: [WitnessRecord] = []) {
        self.store = store
        self.publicKey = publicKey
        self.witness = witness
    }

    /// Runs every check; `progress` gets (checked, total) events as the chain is walked.
    public func verify(progress: ((UInt64, UInt64) -> Void)? = nil) async throws(EventLogError) -> Report {
        var checkpoints: [(position: UInt64, record: Data)] = []
        let checkpointType = EventType.checkpointSigned.rawValue
        let chain = try await store.verify(from: 1, progress: progress) { header, record in
            if header.type == checkpointType { checkpoints.append((header.position, record)) }
        }
        var problems: [Problem] = []
        if let (position, problem) = chain.firstProblem {
            problems.append(Problem(position: position, description: "hash chain: \(problem)"))
        }
        let keyID = Data(SHA256.hash(data: publicKey))
        let logID = store.meta.logID
        var verified = 0
        var lastGood: UInt64 = 0
        var lastGoodEvent: UInt64 = 0
        for (position, record) in checkpoints {
            guard let event = try? QSMEvent(StoredEvent(position: position, record: record)),
                  case .checkpointSigned(let signed) = event.body
            else {
                problems.append(Problem(position: position, description: "checkpoint event does not decode"))
                continue
            }
            let signedPosition = signed.checkpointPosition
            let statement = CheckpointStatement(logID: logID, position: signedPosition, chainHash: signed.chainHash)
            if signed.publicKeyID != keyID {
                problems.append(Problem(position: position, description:
                    "checkpoint is signed by another key (id \(signed.publicKeyID.hex.prefix(16))…, expected \(keyID.hex.prefix(16))…)"))
            } else if !statement.isSigned(by: publicKey, signature: signed.signature) {
                problems.append(Problem(position: position, description:
                    "checkpoint signature of position \(signedPosition) does not verify: the checkpoint was forged or altered"))
            } else if signedPosition >= position {
                problems.append(Problem(position: position, description: "checkpoint signs position \(signedPosition), not before it"))
            } else if let actual = try await store.chainHash(at: signedPosition), actual != signed.chainHash {
                problems.append(Problem(position: signedPosition, description:
                    "the chain hash at \(signedPosition) differs from the one signed at \(position): events after "
                    + "\(lastGood) and up to \(signedPosition) were rewritten and the chain recomputed"))
            } else {
                verified += 1
                lastGood = max(lastGood, signedPosition)
                lastGoodEvent = position
            }
        }
        problems += try await witnessProblems(head: try await store.head().position, logID: logID, keyID: keyID)
        problems.sort { $0.position < $1.position }
        return Report(
            chain: chain, checkpointsVerified: verified, lastSignedPosition: lastGood, lastCheckpointEvent: lastGoodEvent, witnessRecords: witness.count,
            problems: problems)
    }

    /// What the witness saw and the log no longer shows.
    private func witnessProblems(head: UInt64, logID: UUID, keyID: Data) async throws(EventLogError) -> [Problem] {
        var problems: [Problem] = []
        for record in witness {
            let statement = record.statement
            if statement.logID != logID {
                problems.append(Problem(position: 0, description:
                    "the witness is of another log (\(statement.logID.uuidString.lowercased()))"))
                break
            }
            guard record.publicKeyID == keyID, statement.isSigned(by: publicKey, signature: record.signature) else {
                problems.append(Problem(position: statement.position, description:
                    "witness record for position \(statement.position) is not signed by this key"))
                continue
            }
            if record.eventPosition > head {
                problems.append(Problem(position: head + 1, description:
                    "the log was truncated: the witness saw a checkpoint at \(record.eventPosition) (signing position "
                    + "\(statement.position)), but the log ends at \(head)"))
                break
            }
            if let actual = try await store.chainHash(at: statement.position), actual != statement.chainHash {
                problems.append(Problem(position: statement.position, description:
                    "the chain hash at \(statement.position) differs from the one the witness saw: the log was rewritten"))
            } else if !(try await holdsCheckpoint(record)) {
                problems.append(Problem(position: record.eventPosition, description:
                    "the checkpoint the witness saw at \(record.eventPosition) is gone or changed: the log was rewritten after \(statement.position)"))
            }
        }
        return problems
    }

    /// Whether the log still holds, at its position, the checkpoint event `record` copies.
    private func holdsCheckpoint(_ record: WitnessRecord) async throws(EventLogError) -> Bool {
        guard let stored = try await store.read(from: record.eventPosition, limit: 1).first,
              stored.position == record.eventPosition,
              let event = try? QSMEvent(stored), case .checkpointSigned(let signed) = event.body
        else { return false }
        return signed.checkpointPosition == record.statement.position && signed.signature == record.signature
    }
}
