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
    public let to: String
    /// Microseconds since the epoch.
    public let sentAt: Int64
    public let mode: String
}

extension Broker {
    /// Encrypts `body` for `to` and stores it. Modes: `aes` (default; AES-256-GCM under a block of the
    /// pair's BB84 key), `otp` (one-time pad plus Poly1305 from the pool: costs the message's size plus
    /// 32 bytes of key) and `pqc` (HPKE with X-Wing to the recipient's public key). otp and aes run a key
    /// exchange first, once, when the pair's pool is short.
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
        let messageID = BrokerCrypto.messageID(atMicros: configuration.clock())
        var sealedPQC: PQCSealedForContext?
        if mode == .pqc, let sender = read({ $0.peekSession(presented, now: configuration.clock()) }),
           let publicKey = read({ $0.users[recipient]?.pqcPublicKey })
        {
            // A second seal to the sender's own key, so that they can read what they sent: pqc only, as
            // otp and aes senders hold the pair's key material already.
            sealedPQC = try await crypto.sealPQC(
                body, to: publicKey, senderKey: read({ $0.users[sender]?.pqcPublicKey }),
                context: MessageAAD(messageID: messageID, sender: sender, recipient: recipient))
        }
        let command = SendCommand(
            token: presented, recipient: recipient, body: body, mode: mode, messageID: messageID, sealedPQC: sealedPQC,
            aesRotation: crypto.aesRotation)
        // BB84 sets otp's pace: a short pool gets a key exchange sized for the message before the command
        // is queued, so the writer never waits for one. Another sender of the same pair may take the bits
        // first; then the writer refuses, and one more exchange is run (twice at most).
        var exchanges = 0
        for attempt in 1... {
            if mode != .pqc, let shortBy = poolShortfall(presented, recipient: recipient, mode: mode, bytes: body.count) {
                let qubits = min(configuration.maxQubits, max(configuration.topUpQubits, Int(shortBy) * 5))
                _ = try await establishKey(
                    token: token, peer: recipient, options: KeyExchangeOptions(qubits: qubits), caller: caller)
                exchanges += 1
            }
            switch await submit(command, caller: caller) {
            case .success(let result): return result
            case .failure(.keyPoolShort) where exchanges < 2 && attempt < 3: continue
            case .failure(let error): throw error
            }
        }
        preconditionFailure("the loop returns or throws")
    }

    /// How many bits the pair's pool lacks for a message of `bytes` bytes in `mode`, or nil when it has
    /// enough (or the send will be refused for another reason, which the decider records).
    private func poolShortfall(_ token: PresentedToken, recipient: String, mode: QSMMessageMode, bytes: Int) -> UInt64? {
        let now = configuration.clock()
        let needed = mode == .otp ? KeyPool.otpCost(messageByteCount: bytes) : UInt64(AESBlock.keyByteCount * 8)
        return read { state -> UInt64? in
            guard let sender = state.peekSession(token, now: now), state.users[recipient] != nil, sender != recipient
            else { return nil }
            let pair = state.keyPools.pool(sender, recipient)
            if mode == .aes, let block = pair?.aesBlock, !block.needsRotation(atMicroseconds: now, policy: crypto.aesRotation) {
                return nil
            }
            let available = pair?.pool.availableBits ?? 0
            return available >= needed ? nil : needed - available
        }
    }
}

/// Send: checks the session, the recipient and the throttle, then records the message. For otp and aes
/// it reserves the key material on its copy of the pool (the ranges, or the block and nonce) and leaves
/// the sealing to the writer; for pqc it takes the ciphertext sealed before it was queued.
struct SendCommand: BrokerCommand {
    let token: PresentedToken
    let recipient: String
    let body: Data
    let mode: QSMMessageMode
    let messageID: Data
    let sealedPQC: PQCSealedForContext?
    let aesRotation: AESRotationPolicy

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<SendResult, BrokerError> {
        let sender: String
        switch state.authenticate(token, method: "Send", decision: &decision) {
        case .failure(let error): return .failure(error)
        case .success(let name): sender = name
        }
        guard sender != recipient else { return .failure(.invalidParameter(name: "to", reason: "cannot be yourself")) }
        guard state.users[recipient] != nil else { return .failure(.unknownUser(recipient)) }
        if let until = state.ids.throttledUntil[sender], until > decision.now { return .failure(.throttled(until: until)) }
        // One source's accounts together are throttled too (so new accounts do not get round the per-user
        // throttle); administrators are exempt: a benchmark or a bulk import runs from their uid.
        if !decision.caller.isAdmin, let until = state.ids.sendThrottles[decision.caller.source.text], until > decision.now {
            decision.refuse(.accessDenied(QSMAccessDenied.with {
                $0.username = sender
                $0.method = "Send"
                $0.resource = "user"
                $0.resourceID = recipient
                $0.reason = .throttled
            }), actor: sender, state: state)
            return .failure(.sourceThrottled(what: "messages", until: until))
        }
        var sent = QSMMessageSent.with {
            $0.messageID = messageID
            $0.sender = sender
            $0.recipient = recipient
            $0.mode = mode
            $0.size = UInt64(body.count)
        }
        let context = MessageAAD(messageID: messageID, sender: sender, recipient: recipient)
        let pair = state.keyPools.pool(sender, recipient)
        do {
            switch mode {
            case .pqc:
                guard let sealedPQC, sealedPQC.context == context else {
                    return .failure(.unavailable("the session changed while sealing: try again"))
                }
                sent.encapsulatedKey = sealedPQC.sealed.encapsulatedKey
                sent.ciphertext = sealedPQC.sealed.ciphertext
                if let copy = sealedPQC.senderCopy {
                    sent.senderEncapsulatedKey = copy.encapsulatedKey
                    sent.senderCiphertext = copy.ciphertext
                }
                decision.emit(.messageSent(sent), actor: sender)
            case .otp:
                guard var pool = pair?.pool else {
                    return .failure(.keyPoolShort(needed: UInt64(body.count) + BrokerCrypto.otpKeyOverhead, available: 0))
                }
                let before = pool
                let reservation = try pool.reserveOTP(messageByteCount: body.count)
                sent.poolRanges = reservation.ranges.map(QSMPoolRange.init)
                decision.emitSealed(sent, actor: sender, seal: .otp(pool: before), body: body, context: context)
            case .aes:
                guard var pool = pair?.pool else { return .failure(.keyPoolShort(needed: 32, available: 0)) }
                if var block = pair?.aesBlock, !block.needsRotation(atMicroseconds: decision.now, policy: aesRotation) {
                    let unchanged = block
                    let nonce = try block.takeNonce(atMicroseconds: decision.now, policy: aesRotation)
                    sent.blockCounter = nonce.counter
                    sent.poolRanges = unchanged.ranges.map(QSMPoolRange.init)
                    decision.emitSealed(
                        sent, actor: sender, seal: .aesCurrentBlock(pool: pool, block: unchanged), body: body, context: context)
                } else {
                    let before = pool
                    let reservation = try pool.reserveAESBlock()
                    sent.blockCounter = 0
                    sent.poolRanges = reservation.ranges.map(QSMPoolRange.init)
                    decision.emitSealed(sent, actor: sender, seal: .aesNewBlock(pool: before), body: body, context: context)
                }
            default:
                return .failure(.invalidParameter(name: "mode", reason: "must be otp, aes or pqc"))
            }
        } catch {
            return .failure(BrokerCrypto.mapped(error))
        }
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
