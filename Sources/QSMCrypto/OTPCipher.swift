public import Foundation

/// A message sealed in mode otp: the ciphertext (message XOR pad) and its Poly1305 tag.
public struct OTPSealed: Sendable, Hashable {
    /// As long as the message.
    public var ciphertext: Data
    /// 16 bytes.
    public var tag: Data

    /// A sealed message as read back from an event.
    public init(ciphertext: Data, tag: Data) {
        self.ciphertext = ciphertext
        self.tag = tag
    }
}

/// Mode otp: the one-time pad with Wegman-Carter authentication. The message is XORed with fresh pool
/// bits; Poly1305, keyed by 256 further fresh pool bits, authenticates the associated data and the
/// ciphertext (laid out as in RFC 8439's AEAD: AD, padding, ciphertext, padding, both lengths).
public enum OTPCipher {
    static let mode = "otp"

    /// Seals `message`, consuming its one-time key.
    /// - Throws: ``QSMCryptoError/mismatchedKeyMaterial(reason:)`` when the key was reserved for another length.
    public static func seal(
        _ message: Data, context: MessageContext, key: consuming OTPSealingKey
    ) throws(QSMCryptoError) -> OTPSealed {
        guard message.count == key.messageByteCount else {
            throw .mismatchedKeyMaterial(reason: "otp key reserved for \(key.messageByteCount) bytes, message has \(message.count)")
        }
        var ciphertext = Data(count: message.count)
        let tag = key.material.withUnsafeBytes { material in
            let pad = UnsafeRawBufferPointer(rebasing: material[Poly1305.keyByteCount...])
            ciphertext.withUnsafeMutableBytes { out in
                message.withUnsafeBytes { plain in xor(plain, pad, into: out) }
            }
            return self.tag(
                ciphertext, associatedData: context.associatedData(mode: mode),
                key: UnsafeRawBufferPointer(rebasing: material[..<Poly1305.keyByteCount]))
        }
        return OTPSealed(ciphertext: ciphertext, tag: tag)
    }

    /// Opens a sealed message: verifies the tag first and returns nothing unless it authenticates.
    /// - Throws: ``QSMCryptoError/malformedCiphertext(reason:)`` when the tag or ciphertext length is wrong,
    ///   ``QSMCryptoError/authenticationFailed`` when the tag does not match.
    public static func open(
        _ sealed: OTPSealed, context: MessageContext, key: OTPOpeningKey
    ) throws(QSMCryptoError) -> Data {
        guard sealed.tag.count == Poly1305.tagByteCount else {
            throw .malformedCiphertext(reason: "otp tag is \(sealed.tag.count) bytes, expected 16")
        }
        guard sealed.ciphertext.count == key.messageByteCount else {
            throw .malformedCiphertext(
                reason: "otp ciphertext is \(sealed.ciphertext.count) bytes, its ranges cover \(key.messageByteCount)")
        }
        return try key.material.withUnsafeBytes { (material) throws(QSMCryptoError) -> Data in
            let expected = tag(
                sealed.ciphertext, associatedData: context.associatedData(mode: mode),
                key: UnsafeRawBufferPointer(rebasing: material[..<Poly1305.keyByteCount]))
            let matches = expected.withUnsafeBytes { a in sealed.tag.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
            guard matches else { throw .authenticationFailed }
            let pad = UnsafeRawBufferPointer(rebasing: material[Poly1305.keyByteCount...])
            var plain = Data(count: sealed.ciphertext.count)
            plain.withUnsafeMutableBytes { out in
                sealed.ciphertext.withUnsafeBytes { cipher in xor(cipher, pad, into: out) }
            }
            return plain
        }
    }

    private static func xor(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        let count = out.count
        guard count > 0 else { return }
        let x = a.baseAddress!, y = b.baseAddress!, z = out.baseAddress!
        var i = 0
        while i + 8 <= count {
            z.storeBytes(of: x.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ y.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            z.storeBytes(of: x.load(fromByteOffset: i, as: UInt8.self) ^ y.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }

    private static func tag(_ ciphertext: Data, associatedData: [UInt8], key: UnsafeRawBufferPointer) -> Data {
        var state = Poly1305.State(key: key)
        let zeros = [UInt8](repeating: 0, count: 16)
        associatedData.withUnsafeBytes { state.update($0) }
        zeros.withUnsafeBytes { state.update(UnsafeRawBufferPointer(rebasing: $0[..<((16 - associatedData.count % 16) % 16)])) }
        ciphertext.withUnsafeBytes { state.update($0) }
        zeros.withUnsafeBytes { state.update(UnsafeRawBufferPointer(rebasing: $0[..<((16 - ciphertext.count % 16) % 16)])) }
        var lengths = (UInt64(associatedData.count).littleEndian, UInt64(ciphertext.count).littleEndian)
        withUnsafeBytes(of: &lengths) { state.update($0) }
        return state.finish()
    }
}
