import ArgumentParser
import Forensics
import Foundation
import QSMEvents

extension QSM {
    struct Forensics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Offline forensic queries on a data directory's log (read-only, also while qsmd runs).",
            discussion: "Exit statuses: 0 found, 1 not found (message), 64 usage, 65 damaged log, 66 no log, 74 output. See docs/forensics.md.",
            // One line: the lead adds Rescan here.
            subcommands: [Query.self, Timeline.self, Message.self, Rescan.self])
    }
}

/// --data and --json of the forensics subcommands.
struct ForensicsOutputOptions: ParsableArguments {
    @OptionGroup var directory: DataDirectoryOption

    @Flag(name: .long, help: "Print JSON (NDJSON, one canonical object per line; message: one object).")
    var json = false
}

extension QSM.Forensics {
    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events matching every filter given, from the by_actor and by_type indexes where they serve.",
            discussion: "--explain prints on standard error which index or range was read.")

        @OptionGroup var options: ForensicsOutputOptions
        @OptionGroup var filters: EventFilterOptions

        @Option(name: .customLong("peer-uid"), help: ArgumentHelp("Only events caused by socket peer uid UID.", valueName: "UID"))
        var peerUID: UInt32?

        @Option(
            name: .customLong("message-id"),
            help: ArgumentHelp("Only events naming message ID (32 hex digits): sent, read, refused.", valueName: "ID"))
        var messageID: String?

        @Flag(name: .long, help: "Print the query plan on standard error.")
        var explain = false

        func run() async throws {
            try reportingForensicsErrors { () throws(ForensicsError) in
                var query = try filters.query()
                query.peerUID = peerUID
                query.messageID = try messageID.map { text throws(ForensicsError) in try EventQuery.parseMessageID(text) }
                let log = try ForensicLog(dataDirectory: options.directory.data)
                if explain { FileHandle.standardError.write(Data("plan: \(try log.plan(query))\n".utf8)) }
                let output = BufferedOutput()
                if !options.json { try output.write(EventSummary.header() + "\n") }
                try log.forEach(matching: query) { event throws(ForensicsError) in
                    if options.json {
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

    struct Timeline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Everything USER did and everything done to them, with the socket peers.",
            discussion: """
                Events whose actor is USER or whose body names USER: messages sent to them, reads of their \
                messages, key exchanges they were the peer of, refusals on what they own, alerts and lockouts \
                about them. ROLES says how USER takes part. --json: one line per event, \
                {"event": <as log export>, "roles": [...]}.
                """)

        @Argument(help: "The username.")
        var user: String

        @OptionGroup var options: ForensicsOutputOptions

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Recorded at or after TIME (as log export).", valueName: "TIME"))
        var since: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Recorded before TIME (exclusive).", valueName: "TIME"))
        var until: String?

        func run() async throws {
            try reportingForensicsErrors { () throws(ForensicsError) in
                let query = try makeQuery(since: since, until: until)
                let log = try ForensicLog(dataDirectory: options.directory.data)
                let output = BufferedOutput()
                if !options.json { try output.write(EventSummary.header(roles: true) + "\n") }
                try log.timeline(of: user, query: query) { entry throws(ForensicsError) in
                    if options.json {
                        output.json.beginObject()
                        output.json.key("event")
                        EventJSON.append(entry.event, to: &output.json)
                        output.json.key("roles")
                        output.json.beginArray()
                        for role in entry.roles { output.json.string(role.rawValue) }
                        output.json.endArray()
                        output.json.endObject()
                        output.json.newline()
                        try output.flushIfFull()
                    } else {
                        try output.write(EventSummary.line(entry.event, roles: entry.roles) + "\n")
                    }
                }
                try output.flush()
            }
        }
    }

    struct Message: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who sent message ID, to whom and how, who read it and who was refused it, with peers and times.",
            discussion: """
                Also lists the alerts that cite those events. Exit status 1 if no event names the message. \
                --json: one object {"alerts", "denied", "messageId", "reads", "sent"}, each list of events as \
                log export writes them.
                """)

        @Argument(help: "The message id: 32 hexadecimal digits.")
        var id: String

        @OptionGroup var options: ForensicsOutputOptions

        func run() async throws {
            try reportingForensicsErrors { () throws(ForensicsError) in
                let messageID = try EventQuery.parseMessageID(id)
                let log = try ForensicLog(dataDirectory: options.directory.data)
                let report = try log.message(messageID)
                guard !report.isEmpty else {
                    throw .notFound("no event in the log names message \(HexDigits.encode(messageID))")
                }
                let output = BufferedOutput()
                if options.json {
                    writeJSON(report, to: output)
                } else {
                    try writeTable(report, to: output)
                }
                try output.flush()
            }
        }

        private func writeJSON(_ report: MessageReport, to output: BufferedOutput) {
            func list(_ name: StaticString, _ events: [QSMEvent]) {
                output.json.key(name)
                output.json.beginArray()
                for event in events { EventJSON.append(event, to: &output.json) }
                output.json.endArray()
            }
            output.json.beginObject()
            list("alerts", report.alerts)
            list("denied", report.denied)
            output.json.key("messageId")
            output.json.hex(report.messageID)
            list("reads", report.reads)
            list("sent", report.sent)
            output.json.endObject()
            output.json.newline()
        }

        private func writeTable(_ report: MessageReport, to output: BufferedOutput) throws(ForensicsError) {
            try output.write("message \(HexDigits.encode(report.messageID))\n")
            for sent in report.sent {
                if case .messageSent(let body)? = sent.body {
                    try output.write(
                        "  from \(body.sender) to \(body.recipient), mode \(EventSummary.mode(body.mode)), "
                            + "\(body.size) bytes, sent \(Timestamps.string(micros: sent.recordedAtUs)) "
                            + "from peer \(EventSummary.peer(sent))\n")
                }
            }
            if report.sent.isEmpty { try output.write("  no message_sent event for it (only reads or refusals)\n") }
            try output.write(
                "  read \(report.reads.count) time(s), refused \(report.denied.count) time(s), "
                    + "cited by \(report.alerts.count) alert(s)\n\n")
            try output.write("      " + EventSummary.header() + "\n")
            let rows = report.sent.map { ("sent  ", $0) } + report.reads.map { ("read  ", $0) }
                + report.denied.map { ("denied", $0) } + report.alerts.map { ("alert ", $0) }
            for (label, event) in rows.sorted(by: { $0.1.position < $1.1.position }) {
                try output.write(label + "  " + EventSummary.line(event) + "\n")
            }
        }
    }
}
