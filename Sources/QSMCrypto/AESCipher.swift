public import Foundation
internal import Crypto

/// A message sealed in mode aes.
public struct AESSealed: Sendable, Hashable {
    /// The block counter (the event's `block_counter`).
    public var counter: UInt64
    /// The 96-bit GCM nonce: the counter, big-endian (the event's `nonce`).
    public var nonce: Data { AESCipher.nonceBytes(counter: counter) }
    /// Ciphertext followed by the 16-byte GCM tag.
    public var ciphertext: Data

    /// A sealed message as read back from an event.
    public init(counter: UInt64, ciphertext: Data) {
        self.counter = counter
        self.ciphertext = ciphertext
    }
}

/// Mode aes: AES-256-GCM under a block key, the nonce from the block's counter.
public enum AESCipher {
    static let mode = "aes"

    /// Seals `message` under `key` with `nonce`, consuming the nonce.
    /// - Throws: ``QSMCryptoError/mismatchedKeyMaterial(reason:)`` when the nonce is from another block.
    public static func seal(
        _ message: Data, context: MessageContext, key: AESBlockKey, nonce: consuming AESNonce
    ) throws(QSMCryptoError) -> AESSealed {
        guard nonce.ranges == key.ranges else {
            throw .mismatchedKeyMaterial(reason: "aes nonce belongs to another block")
        }
        let counter = nonce.counter
        let sealed = try sealGCM(
            message, key: key.key, nonce: nonceBytes(counter: counter),
            associatedData: context.associatedData(mode: mode))
        return AESSealed(counter: counter, ciphertext: sealed)
    }

    /// Opens a sealed message; nothing is returned unless it authenticates.
    /// - Throws: ``QSMCryptoError/malformedCiphertext(reason:)`` when shorter than the tag,
    ///   ``QSMCryptoError/authenticationFailed`` otherwise.
    public static func open(_ sealed: AESSealed, context: MessageContext, key: AESBlockKey) throws(QSMCryptoError) -> Data {
        guard sealed.ciphertext.count >= 16 else {
            throw .malformedCiphertext(reason: "aes ciphertext is \(sealed.ciphertext.count) bytes, shorter than the tag")
        }
        return try openGCM(
            sealed.ciphertext, key: key.key, nonce: nonceBytes(counter: sealed.counter),
            associatedData: context.associatedData(mode: mode))
    }

    /// AES-256-GCM under `key` and a 96-bit `nonce`: the ciphertext followed by the 16-byte tag, as
    /// ``AESSealed/ciphertext`` stores it. ``seal(_:context:key:nonce:)`` calls it with the block's key, the
    /// counter's nonce and the message context; PublishedVectorTests checks it against NIST's vectors.
    static func sealGCM(
        _ message: Data, key: SymmetricKey, nonce: Data, associatedData: [UInt8]
    ) throws(QSMCryptoError) -> Data {
        do {
            let box = try AES.GCM.seal(
                message, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: associatedData)
            return Data.joined(box.ciphertext, box.tag)
        } catch {
            throw .primitiveFailed(operation: "AES-256-GCM seal")
        }
    }

    /// Opens what ``sealGCM(_:key:nonce:associatedData:)`` made; nothing is returned unless it authenticates.
    /// - Throws: ``QSMCryptoError/authenticationFailed``.
    static func openGCM(
        _ sealed: Data, key: SymmetricKey, nonce: Data, associatedData: [UInt8]
    ) throws(QSMCryptoError) -> Data {
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: nonce), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
            return try AES.GCM.open(box, using: key, authenticating: associatedData)
        } catch {
            throw .authenticationFailed
        }
    }

    /// The 96-bit nonce of `counter`: four zero bytes, then the counter big-endian.
    public static func nonceBytes(counter: UInt64) -> Data {
        var nonce = Data(count: 4)
        withUnsafeBytes(of: counter.bigEndian) { nonce.append(contentsOf: $0) }
        return nonce
    }
}
