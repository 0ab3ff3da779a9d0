import ArgumentParser
import Forensics
import Foundation
import QSMEvents

/// The data directory of the offline forensic commands (no --json: export is JSON, replay is text).
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The broker's data directory (as given to qsmd --data).", valueName: "DIR"))
    var data: String
}

/// The filters `log export`, `log replay` and `forensics query` share.
struct EventFilterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("First position (inclusive).", valueName: "N"))
    var from: UInt64?

    @Option(name: .long, help: ArgumentHelp("Last position (inclusive).", valueName: "N"))
    var to: UInt64?

    @Option(
        name: .long,
        help: ArgumentHelp("Event type name, e.g. message_sent (repeat or separate by commas).", valueName: "T"))
    var type: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only events whose actor is U.", valueName: "U"))
    var actor: String?

    // Unconditional: `--since -1h` (the documented form) takes "-1h" as the value, not as an option.
    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "Recorded at or after TIME: RFC 3339, a date, now, or relative (-90s, -15m, -1h, -2d, -1w).",
            valueName: "TIME"))
    var since: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Recorded before TIME (exclusive); forms as --since.", valueName: "TIME"))
    var until: String?

    /// The query these options describe; relative times count from now.
    func query() throws(ForensicsError) -> EventQuery {
        try makeQuery(from: from, to: to, types: type, actor: actor, since: since, until: until)
    }
}

/// A validated query from command-line values; relative times count from now. (A free function:
/// option groups cannot be built by hand outside parsing.)
func makeQuery(
    from: UInt64? = nil, to: UInt64? = nil, types: [String] = [], actor: String? = nil, since: String?, until: String?
) throws(ForensicsError) -> EventQuery {
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
    var query = EventQuery()
    query.from = from
    query.to = to
    query.types = try EventQuery.parseTypes(types)
    query.actor = actor
    query.since = try since.map { text throws(ForensicsError) in try EventQuery.parseTime(text, option: "--since", nowMicros: now) }
    query.until = try until.map { text throws(ForensicsError) in try EventQuery.parseTime(text, option: "--until", nowMicros: now) }
    try query.validate()
    return query
}

/// Runs an offline forensic command: its errors go to standard error as one line and become the
/// documented exit status (docs/forensics.md).
func reportingForensicsErrors(_ body: () throws(ForensicsError) -> Void) throws {
    do {
        try body()
    } catch {
        FileHandle.standardError.write(Data("qsm: \(error)\n".utf8))
        throw ExitCode(error.exitStatus)
    }
}
