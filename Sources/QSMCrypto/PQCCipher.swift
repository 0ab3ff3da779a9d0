public import Foundation
internal import Crypto

/// A message sealed in mode pqc.
public struct PQCSealed: Sendable, Hashable {
    /// The HPKE encapsulated key (`encapsulated_key`).
    public var encapsulatedKey: Data
    /// The HPKE ciphertext, tag included.
    public var ciphertext: Data

    /// A sealed message as read back from an event.
    public init(encapsulatedKey: Data, ciphertext: Data) {
        self.encapsulatedKey = encapsulatedKey
        self.ciphertext = ciphertext
    }
}

/// Which copy of a pqc message: the recipient's, or the copy the sender keeps to read what they sent.
public enum PQCCopy: Sendable {
    /// Sealed to the recipient's public key (HPKE info `qsm-pqc-v1`).
    case recipient
    /// Sealed to the sender's own public key (HPKE info `qsm-pqc-sender-copy-v1`): a copy never opens
    /// as the other, whoever holds which key.
    case sender

    var info: Data {
        switch self {
        case .recipient: Data("qsm-pqc-v1".utf8)
        case .sender: Data("qsm-pqc-sender-copy-v1".utf8)
        }
    }
}

/// Mode pqc: HPKE base mode (RFC 9180) with XWingMLKEM768X25519_SHA256_AES_GCM_256 to the receiver's
/// public key (and a second seal to the sender's own key, the sender copy); the message id and both
/// user names are the associated data.
public enum PQCCipher {
    static let mode = "pqc"
    static let suite = HPKE.Ciphersuite.XWingMLKEM768X25519_SHA256_AES_GCM_256

    /// Seals `message` to `recipientKey`: the recipient's public key, or the sender's own for `.sender`.
    public static func seal(
        _ message: Data, context: MessageContext, to recipientKey: PQCPublicKey, copy: PQCCopy = .recipient
    ) throws(QSMCryptoError) -> PQCSealed {
        do {
            var sender = try HPKE.Sender(recipientKey: recipientKey.key, ciphersuite: suite, info: copy.info)
            let ciphertext = try sender.seal(message, authenticating: context.associatedData(mode: mode))
            return PQCSealed(encapsulatedKey: Data.joined(sender.encapsulatedKey, Data()), ciphertext: Data.joined(ciphertext, Data()))
        } catch {
            throw .primitiveFailed(operation: "HPKE X-Wing seal")
        }
    }

    /// Opens a sealed message with the recipient's private key; nothing is returned unless it authenticates.
    /// - Throws: ``QSMCryptoError/malformedCiphertext(reason:)`` for a wrong-length encapsulated key or a
    ///   ciphertext shorter than the tag, ``QSMCryptoError/authenticationFailed`` otherwise.
    public static func open(
        _ sealed: PQCSealed, context: MessageContext, with privateKey: PQCPrivateKey, copy: PQCCopy = .recipient
    ) throws(QSMCryptoError) -> Data {
        guard sealed.encapsulatedKey.count == 1120 else {
            throw .malformedCiphertext(reason: "encapsulated key is \(sealed.encapsulatedKey.count) bytes, expected 1120")
        }
        guard sealed.ciphertext.count >= 16 else {
            throw .malformedCiphertext(reason: "pqc ciphertext is \(sealed.ciphertext.count) bytes, shorter than the tag")
        }
        do {
            var recipient = try HPKE.Recipient(
                privateKey: privateKey.key, ciphersuite: suite, info: copy.info, encapsulatedKey: sealed.encapsulatedKey)
            return try recipient.open(sealed.ciphertext, authenticating: context.associatedData(mode: mode))
        } catch {
            throw .authenticationFailed
        }
    }
}
