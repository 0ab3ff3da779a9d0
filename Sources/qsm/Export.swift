import ArgumentParser
import Forensics

extension QSM.Log {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the log's events as NDJSON: one canonical JSON object per line.",
            discussion: """
                Sorted keys, no whitespace, bytes in hex, times as RFC 3339 UTC with microseconds; secrets \
                stay wrapped or encrypted as stored. The format is in docs/forensics.md. Opens the log \
                read-only and exports the events up to the head when it starts, also while qsmd runs.
                """)

        @OptionGroup var directory: DataDirectoryOption
        @OptionGroup var filters: EventFilterOptions

        func run() async throws {
            try reportingForensicsErrors { () throws(ForensicsError) in
                let query = try filters.query()
                let log = try ForensicLog(dataDirectory: directory.data)
                let output = BufferedOutput()
                try log.forEach(matching: query) { event throws(ForensicsError) in
                    EventJSON.appendLine(event, to: &output.json)
                    try output.flushIfFull()
                }
                try output.flush()
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the log's events as a human-readable timeline, one line per event.",
            discussion: """
                Columns: time (UTC), position, type, actor, peer (uid, pid), what happened. Filters as for \
                export. --json: the events as qsm log export writes them, one object per line.
                """)

        @OptionGroup var directory: DataDirectoryOption
        @OptionGroup var filters: EventFilterOptions
        @Flag(name: .long, help: "Print each event as a JSON line (the format of qsm log export).") var json = false

        func run() async throws {
            try reportingForensicsErrors { () throws(ForensicsError) in
                let query = try filters.query()
                let log = try ForensicLog(dataDirectory: directory.data)
                let output = BufferedOutput()
                try log.forEach(matching: query) { event throws(ForensicsError) in
                    if json {
                        EventJSON.appendLine(event, to: &output.json)
                        try output.flushIfFull()
                    } else {
                        try output.write(EventSummary.line(event) + "\n")
                    }
                }
                try output.flush()
            }
        }
    }
}
