import ArgumentParser
import Foundation

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

    /// One page, or with --all every page from `cursor` on, merged under `key` (total from the first page,
    /// more 0 and no cursor at the end).
    func fetch(_ key: String, call: (String?) throws -> [String: Any]) throws -> [String: Any] {
        var reply = try call(cursor)
        guard all else { return reply }
        var items = reply[key] as? [Any] ?? []
        while let next = reply["cursor"] as? String {
            reply = try call(next)
            items += reply[key] as? [Any] ?? []
        }
        reply[key] = items
        return reply
    }

    /// "N more: use --limit or --all" on standard error when the listing was cut.
    static func sayMore(_ reply: [String: Any]) {
        let more = Output.int(reply["more"])
        guard more > 0 else { return }
        FileHandle.standardError.write(Data("\(more) more: use --limit or --all\n".utf8))
    }
}
