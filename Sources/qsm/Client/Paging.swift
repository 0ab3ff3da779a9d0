import ArgumentParser
import Foundation
import QSMClient

/// --limit, --all and --cursor for the listings qsmd pages (inbox, history): 100 items unless told.
struct Paging: ParsableArguments {
    /// The largest page qsmd serves; --all asks for pages of this size.
    static let largestPage = 10_000

    @Option(name: [.customShort("n"), .long], help: "At most this many, newest first (default 100, at most 10000).")
    var limit: Int?
    @Flag(help: "Everything, fetched page by page.") var all = false
    @Option(help: ArgumentHelp("Start after this cursor: the `cursor` of a previous --json reply.", valueName: "CURSOR"))
    var cursor: String?

    func validate() throws {
        if all && limit != nil { throw ValidationError("give --limit or --all, not both") }
        if let limit, !(1...Self.largestPage).contains(limit) { throw ValidationError("--limit must be 1-\(Self.largestPage)") }
    }

    /// The limit each call asks for (nil: qsmd's default).
    var pageLimit: Int? { all ? Self.largestPage : limit }

    /// One page, or with --all every page from `cursor` on, merged: the items of every page, the rest
    /// (total, more 0 and no cursor) from the last; `json` is the same as qsmd said it, merged under `key`,
    /// for --json.
    func fetch<Reply: PagedReply>(
        _ key: String, call: (String?) async throws -> VerbatimReply<Reply>
    ) async throws -> (reply: Reply, json: Any) {
        let first = try await call(cursor)
        var reply = first.reply
        var json = Output.parameters(of: first) as? [String: Any] ?? [:]
        guard all else { return (reply, json) }
        var items = reply.items
        var jsonItems = json[key] as? [Any] ?? []
        while let next = reply.cursor {
            let page = try await call(next)
            reply = page.reply
            items += reply.items
            json = Output.parameters(of: page) as? [String: Any] ?? [:]
            jsonItems += json[key] as? [Any] ?? []
        }
        reply.items = items
        json[key] = jsonItems
        return (reply, json)
    }

    /// "N more: use --limit or --all" on standard error when the listing was cut.
    static func sayMore(_ more: Int) {
        guard more > 0 else { return }
        FileHandle.standardError.write(Data("\(more) more: use --limit or --all\n".utf8))
    }
}

/// A reply qsmd pages: its items, how many are left, and the cursor of the next page.
protocol PagedReply: Sendable {
    associatedtype Item
    var items: [Item] { get set }
    var more: Int { get }
    var cursor: String? { get }
}

extension BrokerAPI.Inbox.Reply: PagedReply {
    var items: [BrokerAPI.InboxMessage] {
        get { messages }
        set { messages = newValue }
    }
}

extension BrokerAPI.History.Reply: PagedReply {
    var items: [BrokerAPI.HistoryEntry] {
        get { entries }
        set { entries = newValue }
    }
}
