public import Foundation

/// What a sealed message is bound to: its id and both user names. Every mode authenticates these as
/// associated data, so a ciphertext moved to another message, sender or recipient does not open.
public struct MessageContext: Sendable, Hashable {
    /// The message id (16 random bytes in the broker).
    public var messageID: Data
    /// The sender's user name.
    public var sender: String
    /// The recipient's user name.
    public var recipient: String

    /// A context for one message.
    public init(messageID: Data, sender: String, recipient: String) {
        self.messageID = messageID
        self.sender = sender
        self.recipient = recipient
    }

    /// The associated data for `mode`: a label, then each field with a 4-byte big-endian length. Built as
    /// one array (this runs once per message, so it avoids growing `Data` piece by piece).
    func associatedData(mode: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24 + mode.utf8.count + messageID.count + sender.utf8.count + recipient.utf8.count)
        bytes.append(contentsOf: "qsm-msg-v1/".utf8)
        bytes.append(contentsOf: mode.utf8)
        Self.appendLength(messageID.count, to: &bytes)
        messageID.withUnsafeBytes { bytes.append(contentsOf: $0) }
        Self.appendLength(sender.utf8.count, to: &bytes)
        bytes.append(contentsOf: sender.utf8)
        Self.appendLength(recipient.utf8.count, to: &bytes)
        bytes.append(contentsOf: recipient.utf8)
        return bytes
    }

    private static func appendLength(_ count: Int, to bytes: inout [UInt8]) {
        let length = UInt32(truncatingIfNeeded: count)
        bytes.append(UInt8(length >> 24))
        bytes.append(UInt8((length >> 16) & 0xFF))
        bytes.append(UInt8((length >> 8) & 0xFF))
        bytes.append(UInt8(length & 0xFF))
    }
}
