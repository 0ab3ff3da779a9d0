import Crypto
import Foundation
import QKD
import QSMCrypto
import QSMEvents
import Synchronization
import EventLog
import SwiftProtobuf

/// A logged-in user's pqc private key, held in memory for the session.
typealias PQCPrivateKeyHandle = PQCPrivateKey

/// Credentials made at registration.
struct NewCredentials: Sendable {
    let passwordHash: String
    let publicKey: Data
    let wrappedPrivateKey: QSMWrappedSecret
}

/// A password that verified at login.
struct VerifiedLogin: Sendable {
    /// The user's credential version the password was checked against.
    let credentialVersion: UInt64
    /// A new PHC string when the stored cost was below the configured one.
    let rehashed: String?
    let privateKey: PQCPrivateKey?
}

/// A password change worked out before deciding.
struct PreparedPasswordChange: Sendable {
    let credentialVersion: UInt64
    let passwordHash: String
    let wrappedPrivateKey: QSMWrappedSecret
}

/// The associated data every mode binds: message id and both user names.
typealias MessageAAD = MessageContext

/// A key exchange as simulated, before it is recorded.
struct ExchangeOutcome: Sendable {
    let exchangeID: Data
    let initiator: String
    let peer: String
    let keyID: String
    let figures: QSMBB84Figures
    /// The final key wrapped under the master key, when the exchange completed.
    let wrappedKey: QSMWrappedSecret?
    let abort: (reason: QSMKeyExchangeAborted.Reason, detail: String)?
}

/// The broker's use of QSMCrypto and QKD: the master key, the password hasher, unwrapped pool keys and
/// aes block keys in memory. CPU-heavy work (Argon2id, X-Wing) runs on a dispatch queue, not on the
/// cooperative threads that the pipeline and other callers need; BB84 runs on the exchange pool's own
/// threads, so that long exchanges cannot hold that queue either.
final class BrokerCrypto: Sendable {
    static let otpKeyOverhead = UInt64(32)
    let masterKey: MasterKey
    private let hasher: PasswordHasher
    let segmentKeys: SegmentKeyCache
    private let blockKeys = Mutex<[String: AESBlockKey]>([:])
    private let rotation: AESRotationPolicy
    private let threshold = 0.11
    private let work = DispatchQueue(label: "qsm.broker.crypto", qos: .userInitiated, attributes: .concurrent)
    let exchanges: ExchangePool

    init(configuration: BrokerConfiguration) throws {
        masterKey = try MasterKey.loadOrCreate(at: configuration.masterKeyPath)
        hasher = try PasswordHasher(
            cost: Argon2Cost(memoryKiB: configuration.passwordMemoryKiB, iterations: configuration.passwordIterations),
            permitCostBelowFloorForTests: configuration.allowCheapPasswordHashingForTests)
        segmentKeys = SegmentKeyCache(masterKey: masterKey)
        exchanges = ExchangePool(threads: configuration.exchangeThreads)
        rotation = AESRotationPolicy(
            maxMessages: configuration.aesBlockMessages, maxAgeMicroseconds: configuration.aesBlockAgeSeconds * 1_000_000)
    }

    var aesRotation: AESRotationPolicy { rotation }

    /// Runs `body` on the crypto queue and waits for it.
    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws(BrokerError) -> T) async throws(BrokerError) -> T {
        let result: Result<T, BrokerError> = await withCheckedContinuation { continuation in
            work.async {
                continuation.resume(returning: Result { () throws(BrokerError) -> T in try body() })
            }
        }
        return try result.get()
    }

    static func mapped(_ error: any Error) -> BrokerError {
        if let error = error as? BrokerError { return error }
        guard let cryptoError = error as? QSMCryptoError else { return .unavailable("\(error)") }
        switch cryptoError {
        case .authenticationFailed: return .integrityFailure(messageID: "")  // the caller knows the id and names it
        case .poolTooShort(let needed, let available): return .keyPoolShort(needed: needed / 8, available: available / 8)
        default: return .unavailable("\(cryptoError)")
        }
    }

    /// 128 random bits from the system's generator (two words, not sixteen calls).
    static func randomID() -> Data {
        var generator = SystemRandomNumberGenerator()
        var words = (generator.next(), generator.next())
        return withUnsafeBytes(of: &words) { Data($0) }
    }

    /// A message id: 80 random bits, then the Unix time in milliseconds (48 bits, big-endian). The random
    /// part comes first so that a few leading hex digits tell a user's messages apart (`qsm read PREFIX`);
    /// the message index keys each message by its time first (``MessageTables``), so a commit's rows
    /// land in the last leaf of that B-tree instead of one random leaf each (tools/lmdb-page-model).
    static func messageID(atMicros micros: Int64) -> Data {
        var generator = SystemRandomNumberGenerator()
        var random = (generator.next(), generator.next())
        var bytes = withUnsafeBytes(of: &random) { Array($0.prefix(10)) }
        let milliseconds = UInt64(max(micros, 0) / 1000)
        for shift in stride(from: 40, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: milliseconds >> UInt64(shift))) }
        return Data(bytes)
    }

    // MARK: Passwords and pqc keys

    func newCredentials(username: String, password: String) async throws(BrokerError) -> NewCredentials {
        try await offload { [hasher] () throws(BrokerError) -> NewCredentials in
            do {
                let hash = try hasher.hash(password)
                let keys = try PQCKeys.register(username: username, password: password, hasher: hasher)
                return NewCredentials(passwordHash: hash, publicKey: keys.publicKey, wrappedPrivateKey: keys.wrappedPrivateKey.event)
            } catch {
                throw Self.mapped(error)
            }
        }
    }

    /// Checks `password`; nil when it is wrong. `unwrapKey` false skips unwrapping the pqc key (a second
    /// Argon2id run) for a login that fails anyway on its second-factor code, so that a wrong code costs
    /// what a wrong password does.
    func verifyLogin(username: String, password: String, user: UsersProjection.User, unwrapKey: Bool = true)
        async throws(BrokerError) -> VerifiedLogin?
    {
        try await offload { [hasher] () throws(BrokerError) -> VerifiedLogin? in
            do {
                guard case .valid(let needsRehash) = try hasher.verify(password, against: user.passwordHash) else {
                    return nil
                }
                var privateKey: PQCPrivateKey?
                if unwrapKey, let wrapped = try? QSMWrappedSecret(serializedBytes: user.pqcPrivateKey) {
                    privateKey = try? PQCKeys.unwrap(
                        WrappedSecret(wrapped), username: username, password: password, hasher: hasher)
                }
                return VerifiedLogin(
                    credentialVersion: user.credentialVersion, rehashed: needsRehash ? try hasher.hash(password) : nil,
                    privateKey: privateKey)
            } catch {
                throw Self.mapped(error)
            }
        }
    }

    /// Spends about as long as a verification, so an unknown user answers as slowly as a wrong password;
    /// on the crypto queue, as verifications run, not on the cooperative pool, where fifty connections of
    /// unknown-user logins stalled every other call (security review, issue 16 item 9).
    func equalizeTiming(password: String) async {
        _ = try? await offload { [hasher] () throws(BrokerError) in _ = try? hasher.hash(password) }
    }

    func preparePasswordChange(username: String, user: UsersProjection.User, oldPassword: String, newPassword: String)
        async throws(BrokerError) -> PreparedPasswordChange?
    {
        try await offload { [hasher] () throws(BrokerError) -> PreparedPasswordChange? in
            do {
                guard case .valid = try hasher.verify(oldPassword, against: user.passwordHash) else { return nil }
                let wrapped = try QSMWrappedSecret(serializedBytes: user.pqcPrivateKey)
                let rewrapped = try PQCKeys.rewrap(
                    WrappedSecret(wrapped), username: username, oldPassword: oldPassword, newPassword: newPassword,
                    hasher: hasher)
                return PreparedPasswordChange(
                    credentialVersion: user.credentialVersion, passwordHash: try hasher.hash(newPassword),
                    wrappedPrivateKey: rewrapped.event)
            } catch {
                throw Self.mapped(error)
            }
        }
    }

    // MARK: Key exchange

    /// What an exchange cancelled (or refused at shutdown) before it started answers.
    static let exchangeNotStarted = BrokerError.unavailable("the key exchange did not start: its caller went away or the broker stopped")

    func runExchange(
        initiator: String, peer: String, qubits: Int, noise: Double, eavesdropper: Double, basisBias: Double? = nil
    ) async throws(BrokerError) -> ExchangeOutcome
    {
        let threshold = self.threshold
        let masterKey = self.masterKey
        let cancelled = BrokerError.unavailable("the key exchange was cancelled: its caller went away")
        return try await exchanges.run(cancelledError: Self.exchangeNotStarted) { isCancelled throws(BrokerError) -> ExchangeOutcome in
            let parameters = BB84Parameters(
                qubits: qubits, noise: noise, eavesdropping: eavesdropper, basisBias: basisBias, qberThreshold: threshold)
            var random = BufferedSystemRandom()
            let run: BB84Outcome?
            do throws(QKDError) { run = try BB84.run(parameters: parameters, using: &random, until: isCancelled) } catch {
                throw .invalidParameter(name: error.parameter, reason: error.reason)
            }
            guard let outcome = run else { throw cancelled }
            let exchangeID = Self.randomID()
            let keyID = "qkd-" + exchangeID.hex
            let figures = Self.figures(outcome.report, parameters: parameters)
            switch outcome {
            case .aborted(let reason, _):
                let code: QSMKeyExchangeAborted.Reason = switch reason {
                case .qberAboveThreshold: .qberAboveThreshold
                case .confirmationFailed: .confirmationFailed
                case .noSecureKey, .tooFewSiftedBits: .noSecretKey
                }
                return ExchangeOutcome(
                    exchangeID: exchangeID, initiator: initiator, peer: peer, keyID: keyID, figures: figures,
                    wrappedKey: nil, abort: (code, reason.description))
            case .completed(let keys, _):
                // The pool keeps whole bytes: the last partial byte of the key is dropped.
                let bytes = keys.bitCount / 8
                guard bytes > 0 else {
                    return ExchangeOutcome(
                        exchangeID: exchangeID, initiator: initiator, peer: peer, keyID: keyID, figures: figures,
                        wrappedKey: nil, abort: (.noSecretKey, "the final key is shorter than a byte"))
                }
                var figures = figures
                figures.finalBits = UInt64(bytes * 8)
                let secret = SecretBytes(copying: Data(keys.alice.prefix(bytes)))
                do {
                    // Wrapped as a pool segment (context: its key id); its place in the pool is decided later.
                    let wrapped = try KeyPool(pair: UserPair(initiator, peer)).makeSegment(
                        keyID: keyID, key: secret, bitCount: UInt64(bytes * 8), masterKey: masterKey).wrappedKey
                    return ExchangeOutcome(
                        exchangeID: exchangeID, initiator: initiator, peer: peer, keyID: keyID, figures: figures,
                        wrappedKey: wrapped.event, abort: nil)
                } catch {
                    throw Self.mapped(error)
                }
            }
        }
    }

    static func figures(_ report: BB84Report, parameters: BB84Parameters) -> QSMBB84Figures {
        QSMBB84Figures.with {
            $0.qubitsSent = UInt64(report.qubitsSent)
            $0.qubitsDetected = UInt64(report.qubitsReceived)
            $0.sifted = UInt64(report.siftedBits)
            $0.sampleSize = UInt64(report.sampleSize)
            $0.qber = report.qber
            $0.qberUpperBound = report.qberUpperBound
            $0.leakedBits = UInt64(report.leakedBits)
            $0.finalBits = UInt64(report.finalBits)
            $0.efficiency = report.efficiency ?? 0
            $0.secretFraction = report.secretFraction
            $0.noise = parameters.noise
            $0.loss = parameters.loss
            $0.eavesdropperFraction = parameters.eavesdropping
            $0.abortThreshold = parameters.qberThreshold
            $0.transmissionUs = Self.micros(report.timings.transmission)
            $0.siftingUs = Self.micros(report.timings.sifting)
            $0.estimationUs = Self.micros(report.timings.estimation)
            $0.reconciliationUs = Self.micros(report.timings.reconciliation + report.timings.confirmation)
            $0.amplificationUs = Self.micros(report.timings.privacyAmplification)
        }
    }

    static func micros(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000_000)
    }

    // MARK: Sealing and opening

    /// The unwrapped key of a pool segment (cached).
    func segmentKey(_ segment: KeyPool.Segment) throws -> SecretBytes {
        try segmentKeys.key(for: segment)
    }

    func openOTP(_ sealed: OTPSealed, ranges: [PoolRange], pool: KeyPool, context: MessageContext) throws(BrokerError) -> Data {
        do {
            return try OTPCipher.open(sealed, context: context, key: pool.otpOpeningKey(ranges: ranges, keys: segmentKeys))
        } catch {
            throw Self.mapped(error)
        }
    }

    func openAES(_ sealed: AESSealed, ranges: [PoolRange], pool: KeyPool, context: MessageContext) throws(BrokerError) -> Data {
        do {
            return try AESCipher.open(sealed, context: context, key: blockKey(pool: pool, ranges: ranges))
        } catch {
            throw Self.mapped(error)
        }
    }

    func cacheBlockKey(_ key: AESBlockKey, pair: UserPair, ranges: [PoolRange]) {
        blockKeys.withLock { $0[Self.blockID(pair, ranges)] = key }
    }

    func blockKey(pool: KeyPool, ranges: [PoolRange]) throws -> AESBlockKey {
        let id = Self.blockID(pool.pair, ranges)
        if let key = blockKeys.withLock({ $0[id] }) { return key }
        let key = try pool.aesBlockKey(ranges: ranges, keys: segmentKeys)
        blockKeys.withLock { $0[id] = key }
        return key
    }

    private static func blockID(_ pair: UserPair, _ ranges: [PoolRange]) -> String {
        "\(pair)/" + ranges.map { "\($0.start)+\($0.length)" }.joined(separator: ",")
    }

    /// Seals `body` to the recipient's `publicKey` and, when `senderKey` is given, a copy to the sender's.
    func sealPQC(_ body: Data, to publicKey: Data, senderKey: Data?, context: MessageContext) async throws(BrokerError)
        -> PQCSealedForContext
    {
        try await offload { () throws(BrokerError) -> PQCSealedForContext in
            do {
                let key = try PQCPublicKey(rawRepresentation: publicKey)
                let copy = try senderKey.map { try PQCCipher.seal(body, context: context, to: PQCPublicKey(rawRepresentation: $0), copy: .sender) }
                return PQCSealedForContext(
                    sealed: try PQCCipher.seal(body, context: context, to: key), senderCopy: copy, context: context)
            } catch {
                throw Self.mapped(error)
            }
        }
    }

    func openPQC(_ sealed: PQCSealed, privateKey: PQCPrivateKey, context: MessageContext, copy: PQCCopy) async
        throws(BrokerError) -> Data
    {
        try await offload { () throws(BrokerError) -> Data in
            do { return try PQCCipher.open(sealed, context: context, with: privateKey, copy: copy) } catch { throw Self.mapped(error) }
        }
    }
}

/// A pqc message sealed before deciding, with the sender's copy and the context both were sealed for.
struct PQCSealedForContext: Sendable {
    let sealed: PQCSealed
    let senderCopy: PQCSealed?
    let context: MessageContext
}
