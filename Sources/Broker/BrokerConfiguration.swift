import Foundation
import QSMCrypto
import EventLog
import SwiftProtobuf
import Synchronization

/// How a broker runs. Defaults are what qsmd uses; docs/broker.md gives the reasons.
public struct BrokerConfiguration: Sendable {
    /// The data directory: the log in `log/`, the master key in `master.key`.
    public var dataDirectory: String
    /// How long a session lasts from login (OWASP: hours at most for an absolute timeout).
    public var sessionLifetimeSeconds: Int64 = 8 * 3600
    /// Largest message body, in bytes.
    public var maxMessageBytes = 64 * 1024
    /// Password length bounds, in UTF-8 bytes (NIST SP 800-63B: at least 8; a cap stops hashing abuse).
    public var minPasswordBytes = 8
    public var maxPasswordBytes = 1024
    /// Qubits of an exchange when the caller does not say, and bounds on what a caller may ask.
    public var defaultQubits = 200_000
    /// Below about 40,000 qubits the parameter estimate's sample is so small that its finite-key upper
    /// bound on the QBER exceeds 11% even on a clean 1% channel: every exchange would abort and be alerted
    /// as eavesdropping. Such requests are refused as bad input instead.
    public var minQubits = 40_000
    public var maxQubits = 10_000_000
    /// Channel noise when the caller does not say (an ideal channel has none; real links have ~1-3%).
    public var defaultNoise = 0.01
    /// Qubits of the key exchange an otp or aes send runs when the pool is short.
    public var topUpQubits = 200_000
    /// Key exchanges simulating at once, each on a thread of its own at a lower priority; more wait in
    /// line. Half the cores, at least 1 and at most 2, so BB84 never takes the cores logins and sends need.
    public var exchangeThreads = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount / 2))
    /// Qubits one user's key exchanges (EstablishKey, and those Send runs) may ask for in any
    /// `qubitBudgetWindowSeconds`: two of the largest exchanges, or a hundred of the default size, in ten
    /// minutes. 0 turns the budget off.
    public var qubitBudget = 20_000_000
    public var qubitBudgetWindowSeconds: Int64 = 600
    /// An aes block is replaced after this many messages or this age (QSMCrypto's default policy; the
    /// reasoning is in docs/crypto.md).
    public var aesBlockMessages: UInt64 = AESRotationPolicy.default.maxMessages
    public var aesBlockAgeSeconds: Int64 = AESRotationPolicy.default.maxAgeMicroseconds / 1_000_000
    /// Save projection snapshots every this many events (and at shutdown).
    public var snapshotEvery: UInt64 = 100_000
    /// Whether the log's writer decides the next batch while the previous one commits (EventLog's
    /// `LogWriter`; docs/performance.md has the measurements behind the default).
    public var pipelinedCommit = true
    /// The LMDB map's size when the log is opened (nil: EventLog's default, 256 MiB); it grows when full.
    public var initialMapBytes: Int?
    /// Append a signed checkpoint after this many events (0: only by time)...
    public var checkpointEvery: UInt64 = 10_000
    /// ...or this many seconds after the last one when events arrived since (0: only by count). Both
    /// bound how much an attacker who takes the data directory can rewrite unnoticed by a witness.
    public var checkpointIntervalSeconds: Int64 = 60
    /// A file outside the data directory that receives a copy of every checkpoint (nil: none).
    public var witnessPath: String?
    /// Serve a log that failed the start-up check (behind its witness, a broken chain after the last
    /// checkpoint, a last checkpoint that does not verify); the start then records what was found and
    /// retires every key in force. qsmd's `--accept-damaged-log`.
    public var acceptDamagedLog = false
    /// Make a new signing key when the log's is missing (or adopt the file's key when it is another),
    /// recording the replacement in the log. qsmd's `--new-signing-key`.
    public var replaceSigningKey = false
    /// Intrusion detection thresholds.
    public var rules = IDSRules()
    /// Argon2id cost for new password hashes: memory KiB, iterations, parallelism.
    public var passwordMemoryKiB: UInt32 = 19 * 1024
    public var passwordIterations: UInt32 = 2
    /// Allows a cost below OWASP's floor: for tests only.
    public var allowCheapPasswordHashingForTests = false
    /// The broker's clock in microseconds since the epoch. Injectable so tests can move time; never
    /// consulted by projections, only by deciders through the time of the batch.
    public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// The configuration for the data directory `dataDirectory`.
    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    var logDirectory: String { (dataDirectory as NSString).appendingPathComponent("log") }
    var masterKeyPath: String { (dataDirectory as NSString).appendingPathComponent("master.key") }
    /// The checkpoint-signing key's seed (mode 0600) and its public key (PEM).
    var signingKeyPath: String { (dataDirectory as NSString).appendingPathComponent("signing.key") }
    public var signingPublicKeyPath: String { Self.signingPublicKeyPath(dataDirectory: dataDirectory) }

    /// Where a data directory keeps the checkpoint-signing public key.
    public static func signingPublicKeyPath(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("signing.pub")
    }
}
