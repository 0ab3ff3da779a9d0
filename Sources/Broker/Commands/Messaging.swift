public import Foundation
import QSMCrypto
import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// A sent message's id (hex) and the log position of its MessageSent event.
public struct SendResult: Sendable, Equatable {
    public let messageID: String
    public let position: UInt64
}

/// A decrypted message.
public struct DecryptedMessage: Sendable, Equatable {
    public let body: Data
    public let from: String
    /// Microseconds since the epoch.
    public let sentAt: Int64
    public let mode: String
}

extension Broker {
    /// Encrypts `body` for `to` and stores it. Modes: `aes` (default; AES-256-GCM under a block of the
    /// pair's BB84 key), `otp` (one-time pad plus Poly1305 from the pool: costs the message's size plus
    /// 32 bytes of key) and `pqc` (HPKE with X-Wing to the recipient's public key). otp and aes run a key
    /// exchange first when the pair's pool is short.
    public func send(token: String, to recipient: String, body: Data, mode modeName: String? = nil, caller: Caller)
        async throws(BrokerError) -> SendResult
    {
        try Validation.username(recipient, parameter: "to")
        guard !body.isEmpty else { throw .invalidParameter(name: "body", reason: "is empty") }
        guard body.count <= configuration.maxMessageBytes else {
            throw .invalidParameter(name: "body", reason: "is \(body.count) bytes; the limit is \(configuration.maxMessageBytes)")
        }
        guard let mode = QSMMessageMode(name: modeName ?? "aes") else {
            throw .invalidParameter(name: "mode", reason: "must be otp, aes or pqc")
        }
        let presented = PresentedToken(token)
        let messageID = crypto.randomMessageID()
        var sealedPQC: PQCSealedForContext?
        if mode == .pqc, let user = read({ $0.peekSession(presented, now: configuration.clock()) }),
           let publicKey = read({ $0.users[recipient]?.pqcPublicKey })
        {
            sealedPQC = try await crypto.sealPQC(
                body, to: publicKey, context: MessageAAD(messageID: messageID, sender: user, recipient: recipient))
        }
        let sealed = sealedPQC
        var toppedUp = 0
        while true {
            let attempt = await pipeline.submit(caller) { [crypto, configuration] state, decision in
                Self.decideSend(
                    presented, recipient: recipient, body: body, mode: mode, messageID: messageID, sealedPQC: sealed,
                    state: state, decision: &decision, crypto: crypto, configuration: configuration)
            }
            switch attempt {
            case .success(let result): return result
            case .failure(.keyPoolShort(let needed, let available)) where toppedUp < 8:
                // BB84 sets otp's pace: make enough key for this message, then try again.
                toppedUp += 1
                let qubits = min(
                    configuration.maxQubits, max(configuration.topUpQubits, Int(needed - available) * 8 * 5))
                _ = try await establishKey(
                    token: token, peer: recipient, options: KeyExchangeOptions(qubits: qubits), caller: caller)
            case .failure(let error): throw error
            }
        }
    }

    // swiftlint:disable:next function_parameter_count
    static func decideSend(
        _ presented: PresentedToken, recipient: String, body: Data, mode: QSMMessageMode, messageID: Data,
        sealedPQC: PQCSealedForContext?, state: BrokerState, decision: inout Decision, crypto: BrokerCrypto,
        configuration: BrokerConfiguration
    ) -> Result<SendResult, BrokerError> {
        let sender: String
        switch state.authenticate(presented, method: "Send", decision: &decision) {
        case .failure(let error): return .failure(error)
        case .success(let name): sender = name
        }
        guard sender != recipient else { return .failure(.invalidParameter(name: "to", reason: "cannot be yourself")) }
        guard state.users[recipient] != nil else { return .failure(.unknownUser(recipient)) }
        if let until = state.ids.throttledUntil[sender], until > decision.now { return .failure(.throttled(until: until)) }
        var sent = QSMMessageSent.with {
            $0.messageID = messageID
            $0.sender = sender
            $0.recipient = recipient
            $0.mode = mode
            $0.size = UInt64(body.count)
        }
        let context = MessageAAD(messageID: messageID, sender: sender, recipient: recipient)
        do {
            switch mode {
            case .pqc:
                guard let sealedPQC, sealedPQC.context == context else {
                    return .failure(.unavailable("the session changed while sealing: try again"))
                }
                sent.encapsulatedKey = sealedPQC.sealed.encapsulatedKey
                sent.ciphertext = sealedPQC.sealed.ciphertext
            case .otp:
                guard let entry = state.keyPools.pool(sender, recipient) else {
                    return .failure(.keyPoolShort(needed: UInt64(body.count) + BrokerCrypto.otpKeyOverhead, available: 0))
                }
                let (sealed, ranges) = try crypto.sealOTP(body, pool: entry.pool, context: context)
                sent.ciphertext = sealed.ciphertext
                sent.tag = sealed.tag
                sent.poolRanges = ranges.map(QSMPoolRange.init)
            case .aes:
                guard let entry = state.keyPools.pool(sender, recipient) else {
                    return .failure(.keyPoolShort(needed: 32, available: 0))
                }
                let (sealed, ranges) = try crypto.sealAES(
                    body, entry: entry, pool: entry.pool, now: decision.now, context: context)
                sent.ciphertext = sealed.ciphertext
                sent.nonce = sealed.nonce
                sent.blockCounter = sealed.counter
                sent.poolRanges = ranges.map(QSMPoolRange.init)
            default:
                return .failure(.invalidParameter(name: "mode", reason: "must be otp, aes or pqc"))
            }
        } catch {
            return .failure(error)
        }
        decision.emit(.messageSent(sent), actor: sender)
        return .success(SendResult(messageID: messageID.hex, position: state.position + 1))
    }
}

extension QSMPoolRange {
    init(_ range: PoolRange) {
        self.init()
        start = range.start
        length = range.length
    }
}
