import ArgumentParser
import Foundation
import QSMClient

/// `qsm read 3fa9`: a prefix of a message id, resolved against the user's own inbox on the client, as
/// git resolves abbreviated hashes. The daemon only ever sees whole ids.
enum MessageIDPrefix {
    /// Message ids are 16 random bytes in hex.
    static let fullLength = 32

    /// `text` itself when it is a whole id (or not hex, for the daemon to refuse in its words); else the
    /// one inbox id starting with it.
    /// - Throws: a ValidationError naming the candidates when several ids share the prefix, or saying
    ///   that none does.
    static func resolve(_ text: String, token: String, connection: QSMConnection) async throws -> String {
        let prefix = text.lowercased()
        guard prefix.count < fullLength, !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else { return text }
        let ids = try await connection.call(BrokerAPI.Inbox(token: token, limit: 10_000)).messages.map(\.messageId)
        let matches = ids.filter { $0.hasPrefix(prefix) }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw ValidationError("no message in your inbox has an id starting with \(text)")
        default:
            let shown = matches.prefix(10).joined(separator: ", ") + (matches.count > 10 ? ", ..." : "")
            throw ValidationError("the id prefix \(text) is ambiguous: \(matches.count) messages start with it (\(shown)); give more characters")
        }
    }
}
