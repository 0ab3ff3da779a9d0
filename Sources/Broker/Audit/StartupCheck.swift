import EventLog
public import Foundation
import QSMCrypto
import QSMEvents

/// Why qsmd will not serve its log. Each says what is wrong and what the operator can do, on one line.
public enum StartupRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The log failed the start-up check: behind its witness, a broken chain after the last checkpoint,
    /// a last checkpoint that does not verify.
    case damagedLog(logDirectory: String, problems: [String])
    /// The signing key file is missing although the log holds checkpoints signed by a key.
    case signingKeyMissing(path: String, expectedKeyID: Data)
    /// The signing key file holds another key than the one that signed the log's last checkpoint.
    case signingKeyMismatch(path: String, foundKeyID: Data, expectedKeyID: Data)

    public var description: String {
        switch self {
        case .damagedLog(let directory, let problems):
            let more = problems.count > 1 ? " (and \(problems.count - 1) more problem\(problems.count > 2 ? "s" : ""))" : ""
            return "the log in \(directory) failed its start-up check: \(problems.first ?? "unknown")\(more). "
                + "Run `qsm audit verify` to see all; to serve it anyway (a restored backup, a repaired disk), start qsmd "
                + "with --accept-damaged-log, which retires every key in force"
        case .signingKeyMissing(let path, let expected):
            return "the signing key \(path) is missing, but the log's checkpoints are signed by key \(Self.short(expected)). "
                + "Restore the file, or start qsmd with --new-signing-key to make a new one (recorded in the log)"
        case .signingKeyMismatch(let path, let found, let expected):
            return "the signing key \(path) is key \(Self.short(found)), but the log's last checkpoint is signed by key "
                + "\(Self.short(expected)). Restore the right file, or start qsmd with --new-signing-key to adopt this "
                + "one (recorded in the log)"
        }
    }

    private static func short(_ id: Data) -> String { id.prefix(8).map { String(format: "%02x", $0) }.joined() }
}

/// What qsmd checks of its log at every start, before it serves or signs anything (security review,
/// issue 16 items 1 and 10): the signing key is the one that signed the log, the last checkpoint verifies
/// and its chain hash is still there, the chain recomputes from it to the head, and the log is not behind
/// its witness. The whole chain is `qsm audit verify`'s work; this bounds the start to the tail.
struct StartupCheck {
    /// The signing key to use, the key it replaces (when the operator asked for a new one), and what the
    /// check found (empty: the log is sound; otherwise only when the operator accepted a damaged log).
    struct Outcome {
        let signingKey: BrokerSigningKey
        let replacedKeyID: Data?
        let problems: [String]
    }

    let store: EventStore
    let configuration: BrokerConfiguration
    /// The witness file, opened (and its owner and mode checked) by the caller.
    let witness: WitnessWriter?

    /// Runs the check; throws ``StartupRefusal`` unless the log is sound or the configuration accepts it.
    func run() throws -> Outcome {
        let last = try Checkpointer.latestRecord(in: store)
        let expectedKeyID = try keyInForce(after: last)
        let (key, replaced) = try signingKey(expected: expectedKeyID)
        var problems: [String] = []
        if let last { problems += try checkpointProblems(last, key: key) }
        problems += try tailProblems(after: last)
        problems += try witnessProblems()
        if !problems.isEmpty && !configuration.acceptDamagedLog {
            throw StartupRefusal.damagedLog(logDirectory: configuration.logDirectory, problems: problems)
        }
        return Outcome(signingKey: key, replacedKeyID: replaced, problems: problems)
    }

    /// The public key id that signs the log now: the last replacement's, when it came after the last
    /// checkpoint, else the last checkpoint's; nil for a log never signed.
    private func keyInForce(after last: WitnessRecord?) throws -> Data? {
        if let position = try store.lastPosition(type: EventType.signingKeyReplaced.rawValue),
           position > last?.eventPosition ?? 0, let stored = try store.event(at: position),
           case .signingKeyReplaced(let replaced) = try QSMEvent(stored).body
        {
            return replaced.publicKeyID
        }
        return last?.publicKeyID
    }

    /// Loads the signing key; makes one for a log never signed, or when the operator asks for a new one.
    private func signingKey(expected: Data?) throws -> (BrokerSigningKey, replaced: Data?) {
        let path = configuration.signingKeyPath
        guard let expected else { return (try BrokerSigningKey.loadOrCreate(at: path), nil) }
        if let key = try BrokerSigningKey.load(at: path) {
            if key.publicKeyID.elementsEqual(expected) { return (key, nil) }
            guard configuration.replaceSigningKey else {
                throw StartupRefusal.signingKeyMismatch(path: path, foundKeyID: key.publicKeyID, expectedKeyID: expected)
            }
            return (key, expected)
        }
        guard configuration.replaceSigningKey else { throw StartupRefusal.signingKeyMissing(path: path, expectedKeyID: expected) }
        return (try BrokerSigningKey.loadOrCreate(at: path), expected)
    }

    /// The last checkpoint's signature (when it is the current key's) and the chain hash it signed.
    private func checkpointProblems(_ last: WitnessRecord, key: BrokerSigningKey) throws -> [String] {
        let statement = last.statement
        if last.publicKeyID.elementsEqual(key.publicKeyID), !statement.isSigned(by: key.publicKey, signature: last.signature) {
            return ["the last checkpoint (event \(last.eventPosition)) does not verify under the signing key: it was forged or altered"]
        }
        guard let stored = try store.chainHash(at: statement.position), stored.elementsEqual(statement.chainHash) else {
            return ["the chain hash at \(statement.position) is not the one the last checkpoint (event \(last.eventPosition)) signed: "
                + "the log was rewritten"]
        }
        return []
    }

    /// The chain from the last checkpoint's signed position to the head.
    private func tailProblems(after last: WitnessRecord?) throws -> [String] {
        let report = try store.verify(from: (last?.statement.position ?? 0) + 1)
        guard let (position, problem) = report.firstProblem else { return [] }
        return ["the hash chain breaks at \(position): \(problem)"]
    }

    /// The witness's last record against the log: a log cut back (truncated, restored from a backup) or
    /// rewritten behind it.
    private func witnessProblems() throws -> [String] {
        guard let path = witness?.path else { return [] }
        let records: [WitnessRecord]
        do { records = try WitnessRecord.read(path: path) } catch {
            return ["the witness file cannot be read: \(error.reason)"]
        }
        guard let seen = records.last(where: { $0.statement.logID == store.meta.logID }) else { return [] }
        let head = try store.head().position
        if seen.eventPosition > head {
            return ["the log ends at \(head), but its witness \(path) saw a checkpoint at \(seen.eventPosition): "
                + "the log was cut back (truncated, or restored from a backup)"]
        }
        let statement = seen.statement
        guard let stored = try store.chainHash(at: statement.position), stored.elementsEqual(statement.chainHash),
              let event = try store.event(at: seen.eventPosition),
              case .checkpointSigned(let signed) = try QSMEvent(event).body, signed.signature.elementsEqual(seen.signature)
        else {
            return ["the log differs from what its witness \(path) saw at \(statement.position): the log was rewritten"]
        }
        return []
    }
}
