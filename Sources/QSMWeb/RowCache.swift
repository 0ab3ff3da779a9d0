import Mustache
import QSMClient
import Synchronization

/// The inbox's rows, each rendered once: what a row shows (sender, time, mode, size) never changes for a
/// message, and its read state is part of the key, so a row rendered once stays right (fragment caching,
/// keyed by the record and its version). Rendering a row through swift-mustache costs a dozen protocol
/// casts per value; a page of 20 rows spent most of its time there (tools/bench web). Bounded: past
/// `limit` rows the cache starts again empty.
final class RowCache: Sendable {
    let limit: Int
    private let rows = Mutex<[Key: String]>([:])

    struct Key: Hashable {
        let messageID: String
        let unread: Bool
    }

    init(limit: Int = 10_000) {
        self.limit = limit
    }

    /// The row of `message`, escaped by the `inboxRow` template.
    func html(for message: BrokerAPI.InboxMessage, templates: MustacheLibrary) -> String {
        let key = Key(messageID: message.messageId, unread: !message.read)
        if let html = rows.withLock({ $0[key] }) { return html }
        let html = templates.render(InboxRow(message), withTemplate: "inboxRow") ?? ""
        rows.withLock { rows in
            if rows.count >= limit { rows.removeAll(keepingCapacity: true) }
            rows[key] = html
        }
        return html
    }

    /// Rows held now.
    var count: Int { rows.withLock { $0.count } }
}
