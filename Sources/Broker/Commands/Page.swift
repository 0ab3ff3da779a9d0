import Foundation

/// A page of a listing (inbox, history), newest first.
public struct Page<Item: Sendable & Equatable>: Sendable, Equatable {
    /// How many items a page holds when the caller gives no limit.
    public static var defaultLimit: Int { 100 }

    public let items: [Item]
    /// How many items the listing holds in all (with the same filter), on every page.
    public let total: Int
    /// How many older items come after this page.
    public let more: Int
    /// Pass it back to get the next (older) page; nil on the last page. Opaque to clients: today the log
    /// position of the page's oldest item, so new items arriving between pages shift nothing.
    public let cursor: String?

    /// The log position a cursor names (nil for none).
    static func position(_ cursor: String?) throws(BrokerError) -> UInt64? {
        guard let cursor else { return nil }
        guard let position = UInt64(cursor), position > 0 else {
            throw .invalidParameter(name: "cursor", reason: "is not a cursor from a previous reply")
        }
        return position
    }
}
