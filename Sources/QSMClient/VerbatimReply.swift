public import Foundation

/// A typed reply with the reply message it was decoded from, byte for byte: for a caller that must show
/// exactly what qsmd said (`qsm --json` prints it) while working with the typed value.
public struct VerbatimReply<Reply: Sendable>: Sendable {
    /// The reply's parameters, typed.
    public let reply: Reply
    /// The whole Varlink reply message as qsmd sent it (JSON, without its NUL).
    public let message: Data
}
