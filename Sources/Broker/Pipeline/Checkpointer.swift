import EventLog
import Foundation
import Logging
import QSMCrypto
import QSMEvents
import Synchronization
import SwiftProtobuf

/// Decides when the log gets a signed checkpoint, makes it, and copies each committed one to the witness
/// file. A checkpoint signs a position that is already durable (the head before the batch it joins), so
/// its chain hash is final; it is appended as the first event of that batch.
final class Checkpointer: Sendable {
    private struct Last {
        /// The position the last checkpoint signed, and the position of its own event.
        var signedPosition: UInt64 = 0
        var eventPosition: UInt64 = 0
        var at: Int64 = 0
    }

    private let key: BrokerSigningKey
    private let logID: UUID
    private let every: UInt64
    private let intervalMicros: Int64
    private let witness: WitnessWriter?
    private let last = Mutex(Last())
    private let logger = Logger(label: "qsm.broker.checkpoints")
    private let clock: @Sendable () -> Int64

    /// Publishes the signing key's public key beside it, finds the last checkpoint, and brings the witness
    /// up to it. `key` is the one the start-up check found for this log.
    init(store: EventStore, configuration: BrokerConfiguration, key: BrokerSigningKey, witness: WitnessWriter?) throws {
        self.key = key
        try Self.publish(publicKey: key.publicKey, at: configuration.signingPublicKeyPath)
        logID = store.meta.logID
        every = configuration.checkpointEvery
        intervalMicros = configuration.checkpointIntervalSeconds * 1_000_000
        clock = configuration.clock
        self.witness = witness
        try reload(from: store)
        if let witness, let latest = try Self.latestRecord(in: store) { try witness.catchUp(with: latest) }
    }

    /// Re-reads the last checkpoint from the log (after a failed commit the log, not memory, is the truth).
    func reload(from store: EventStore) throws {
        let found = try Self.latestRecord(in: store)
        last.withLock { last in
            // A log without checkpoints counts its interval from now, not from 1970.
            last = found.map { Last(signedPosition: $0.statement.position, eventPosition: $0.eventPosition, at: $0.recordedAtMicros) }
                ?? Last(signedPosition: 0, eventPosition: 0, at: clock())
        }
    }

    /// Whether a checkpoint of `head` is due at `now`: something was appended since the last checkpoint's
    /// own event, and either `every` events or the interval have passed (or `force`, at shutdown).
    func isDue(head: UInt64, now: Int64, force: Bool) -> Bool {
        last.withLock { last in
            guard head > last.eventPosition else { return false }
            if force { return true }
            if every > 0, head - last.signedPosition >= every { return true }
            return intervalMicros > 0 && now - last.at >= intervalMicros
        }
    }

    /// The signed checkpoint of `head` (the end of the batches before the one it joins, so its chain
    /// hash is final: that batch commits only after them).
    func checkpoint(of head: LogHead) throws -> QSMEvent.OneOf_Body {
        let statement = CheckpointStatement(logID: logID, position: head.position, chainHash: head.hash)
        let signature = try key.signature(for: statement.signedBytes)
        return .checkpointSigned(QSMCheckpointSigned.with {
            $0.checkpointPosition = head.position
            $0.chainHash = head.hash
            $0.signature = signature
            $0.algorithm = BrokerSigningKey.algorithm
            $0.publicKeyID = key.publicKeyID
        })
    }

    /// Reports a checkpoint that could not be made.
    func logFailure(_ error: any Error) {
        logger.error("Cannot make a checkpoint", metadata: ["error": "\(error)"])
    }

    /// Notes a checkpoint decided into a batch, so the next one is counted from it (a failed commit
    /// reloads the last one from the log).
    func decided(_ checkpoint: QSMCheckpointSigned, eventPosition: UInt64, at: Int64) {
        last.withLock { $0 = Last(signedPosition: checkpoint.checkpointPosition, eventPosition: eventPosition, at: at) }
    }

    /// Copies a committed checkpoint to the witness file.
    func committed(_ checkpoint: QSMCheckpointSigned, eventPosition: UInt64, at: Int64) {
        guard let witness else { return }
        let record = WitnessRecord(
            statement: CheckpointStatement(logID: logID, position: checkpoint.checkpointPosition, chainHash: checkpoint.chainHash),
            eventPosition: eventPosition, recordedAtMicros: at, signature: checkpoint.signature,
            publicKeyID: checkpoint.publicKeyID)
        do { try witness.append(record) } catch {
            // The checkpoint is durable in the log; the witness misses one line, which the next one covers.
            logger.error("Cannot write the witness file", metadata: ["error": "\(error)", "position": "\(eventPosition)"])
        }
    }

    /// The log's latest checkpoint, found through the type index.
    static func latestRecord(in store: EventStore) throws -> WitnessRecord? {
        guard let position = try store.lastPosition(type: EventType.checkpointSigned.rawValue),
              let stored = try store.event(at: position)
        else { return nil }
        let event = try QSMEvent(stored)
        guard case .checkpointSigned(let checkpoint) = event.body else { return nil }
        return WitnessRecord(
            statement: CheckpointStatement(logID: store.meta.logID, position: checkpoint.checkpointPosition, chainHash: checkpoint.chainHash),
            eventPosition: position, recordedAtMicros: event.recordedAtUs, signature: checkpoint.signature,
            publicKeyID: checkpoint.publicKeyID)
    }

    /// Writes the public key as PEM beside the data when it is missing or names another key.
    private static func publish(publicKey: Data, at path: String) throws {
        let pem = SigningPublicKeyFile.pem(for: publicKey)
        if FileManager.default.contents(atPath: path) == Data(pem.utf8) { return }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600])
        else { throw BrokerError.unavailable("cannot write \(temporary)") }
        guard rename(temporary, path) == 0 else { throw BrokerError.unavailable("cannot rename \(temporary) to \(path)") }
    }
}
