import Mustache
import QSMClient

/// One row of the inbox page, as the template looks it up. A concrete type, not a `[String: Any]`:
/// swift-mustache casts the row and each value it finds to several protocols per lookup, and those
/// casts on a generic dictionary and on bare Strings and Ints were most of `GET /inbox`'s render time
/// (tools/bench web).
struct InboxRow: MustacheParent {
    let messageId: PageText, from: PageText, sentAt: PageText, mode: PageText, size: PageText
    let unread: Bool

    init(_ message: BrokerAPI.InboxMessage) {
        messageId = PageText(message.messageId)
        from = PageText(message.from)
        sentAt = PageText(Explain.time(message.sentAt))
        mode = PageText(message.mode)
        size = PageText(String(message.size))
        unread = !message.read
    }

    func child(named name: String) -> Any? {
        switch name {
        case "messageId": messageId
        case "from": from
        case "sentAt": sentAt
        case "mode": mode
        case "size": size
        case "unread": unread
        default: nil
        }
    }
}

/// A value a page shows: swift-mustache renders it as its text, escaped by the page's content type.
struct PageText: MustacheCustomRenderable {
    let renderText: String
    var isNull: Bool { false }

    init(_ text: String) { renderText = text }
}
