/// The one-time key of one otp message: a 32-byte Poly1305 key followed by a pad as long as the message.
/// Non-copyable and consumed by ``OTPCipher/seal(_:context:key:)``: it seals exactly one message.
public struct OTPSealingKey: ~Copyable, Sendable {
    let material: SecretBytes
    /// The length of message it can seal.
    public let messageByteCount: Int

    init(material: SecretBytes, messageByteCount: Int) {
        self.material = material
        self.messageByteCount = messageByteCount
    }
}

/// The key to open one recorded otp message (the same bytes, from ranges already consumed). It can only
/// open: nothing seals with it.
public struct OTPOpeningKey: Sendable {
    let material: SecretBytes

    /// The length of message it opens.
    public var messageByteCount: Int { material.count - Poly1305.keyByteCount }
}

extension OTPOpeningKey: CustomStringConvertible, CustomReflectable {
    /// Redacted.
    public var description: String { "OTPOpeningKey(\(messageByteCount) bytes, redacted)" }
    /// No children.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
