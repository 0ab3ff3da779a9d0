import Foundation
import QSMCrypto
import QSMEvents

/// A message the writer seals after its Send was decided: the decider reserved the pool bits (otp) or the
/// block and nonce (aes) on its copy of the state and recorded them in the event; sealing repeats that
/// reservation on the same pool and block, takes the key material, and fills in the ciphertext.
struct SealRequest: Sendable {
    /// The pool and block as the decider saw them, before its reservation.
    enum Work: Sendable {
        case otp(pool: KeyPool)
        case aesNewBlock(pool: KeyPool)
        case aesCurrentBlock(pool: KeyPool, block: AESBlock)
    }

    /// The index of the MessageSent in the decision's events.
    let eventIndex: Int
    let body: Data
    let context: MessageAAD
    let work: Work
    /// The decision's time (an aes block starts then; its age is measured from it).
    let now: Int64
}

extension BrokerCrypto {
    /// Seals `request` into `sent`, whose pool ranges (and block counter) the decider recorded.
    /// - Throws: `BrokerError` when the key material cannot be taken or does not match the decision.
    func seal(_ request: SealRequest, into sent: inout QSMMessageSent) throws(BrokerError) {
        let decided = sent.poolRanges.map { PoolRange(start: $0.start, length: $0.length) }
        do {
            switch request.work {
            case .otp(var pool):
                let reservation = try pool.reserveOTP(messageByteCount: request.body.count)
                guard reservation.ranges == decided else { throw Self.mismatch }
                let key = try pool.takeOTPKey(reservation, keys: segmentKeys)
                let sealed = try OTPCipher.seal(request.body, context: request.context, key: key)
                sent.ciphertext = sealed.ciphertext
                sent.tag = sealed.tag
            case .aesNewBlock(var pool):
                let reservation = try pool.reserveAESBlock()
                guard reservation.ranges == decided else { throw Self.mismatch }
                var (block, key) = try pool.takeAESBlock(reservation, startedAtMicroseconds: request.now, keys: segmentKeys)
                cacheBlockKey(key, pair: pool.pair, ranges: block.ranges)
                try sealAES(request, block: &block, key: key, into: &sent)
            case .aesCurrentBlock(let pool, var block):
                guard block.ranges == decided else { throw Self.mismatch }
                try sealAES(request, block: &block, key: blockKey(pool: pool, ranges: block.ranges), into: &sent)
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    private func sealAES(_ request: SealRequest, block: inout AESBlock, key: AESBlockKey, into sent: inout QSMMessageSent)
        throws
    {
        let nonce = try block.takeNonce(atMicroseconds: request.now, policy: aesRotation)
        guard sent.blockCounter == nonce.counter else { throw Self.mismatch }
        let sealed = try AESCipher.seal(request.body, context: request.context, key: key, nonce: nonce)
        sent.ciphertext = sealed.ciphertext
        sent.nonce = sealed.nonce
    }

    private static var mismatch: BrokerError { .unavailable("sealing did not reproduce the decided reservation") }
}
