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

    /// The associated data for `mode`: a label, then each field with a 4-byte big-endian length.
    func associatedData(mode: String) -> Data {
        var data = Data("qsm-msg-v1/".utf8)
        data.append(contentsOf: mode.utf8)
        data.appendLengthPrefixed(messageID)
        data.appendLengthPrefixed(Data(sender.utf8))
        data.appendLengthPrefixed(Data(recipient.utf8))
        return data
    }
}
