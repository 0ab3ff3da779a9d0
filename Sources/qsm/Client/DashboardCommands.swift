import ArgumentParser
import Foundation
import Glibc
import QSMClient

extension QSM {
    struct Dashboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encryptions, decryptions, logins, key exchanges and alerts, with per-minute sparklines.",
            discussion: """
                --html FILE writes one self-contained HTML page (inline SVG and CSS, no script, nothing fetched): \
                counters, per-minute charts over the window, the QBER of the latest key exchanges against the \
                11% threshold and, for administrators, the latest alerts. With --watch the file is rewritten \
                (written beside it, then renamed over it) whenever something happens. As text, the dashboard fits \
                the terminal's width, draws its bars on a log scale (a counter above zero always shows) and uses \
                colour on a terminal unless NO_COLOR is set.
                """)
        @Flag(help: ArgumentHelp(
            "Redraw whenever something happens (Ctrl-C to stop); into a file or pipe, each state is appended instead."))
        var watch = false
        @Option(help: ArgumentHelp("Write the dashboard as an HTML page to FILE.", valueName: "FILE")) var html: String?
        @Option(help: ArgumentHelp(
            "How far back the per-minute charts go: 1h (default) or 24h, or any duration up to 24h such as 90m.",
            valueName: "DURATION"))
        var window = "1h"
        @Option(help: ArgumentHelp(
            "With --html: render a saved reply (qsm dashboard --json) instead of asking qsmd.", valueName: "JSON"))
        var input: String?
        @OptionGroup var options: ClientOptions

        func validate() throws {
            guard DashboardWindow.minutes(window) != nil else {
                throw ValidationError("--window must be a duration such as 1h, 24h or 90m, at most 24h (got '\(window)')")
            }
            if let html { try DashboardFile.checkWritable(html) }
            if input != nil && (html == nil || watch) { throw ValidationError("--input needs --html and no --watch") }
        }

        func run() async throws {
            if let input, let html {
                try DashboardFile.renderSaved(input, to: html, minutes: DashboardWindow.minutes(window) ?? 60)
                return
            }
            let token = try SessionStore.token()
            let minutes = DashboardWindow.minutes(window) ?? 60
            try await runClient {
                let connection = try await options.connect()
                if let html {
                    try await DashboardFile.run(
                        path: html, watch: watch, minutes: minutes, token: token, connection: connection, options: options)
                    return
                }
                let style = DashboardRenderer.Style.standardOutput()
                if !watch {
                    let answer = try await connection.callVerbatim(BrokerAPI.Dashboard(token: token, minutes: minutes))
                    if options.json { Output.json(answer) } else { print(DashboardRenderer.render(answer.reply, style: style)) }
                    return
                }
                // Redrawn in place on a terminal; into a file or a pipe, each state follows the last after a
                // blank line, with no escape sequences.
                let terminal = isatty(STDOUT_FILENO) == 1
                var first = true
                for try await answer in connection.streamVerbatim(BrokerAPI.WatchDashboard(token: token, minutes: minutes)) {
                    if options.json {
                        Output.jsonLine(answer)
                    } else {
                        let text = DashboardRenderer.render(answer.reply, style: terminal ? .standardOutput() : style)
                        print(terminal ? "\u{1B}[H\u{1B}[2J" + text : (first ? "" : "\n") + text)
                        first = false
                    }
                    fflush(nil)
                }
            }
        }
    }
}

/// Draws the dashboard as text: a bar per counter, a sparkline per per-minute series, fitted to `width`
/// columns. Bars are on a log scale (log(1 + value) against the largest counter's), so a handful of
/// alerts stays visible beside thousands of encryptions, and a counter above zero always has a bar.
enum DashboardRenderer {
    /// How the text is shown: its width in columns and whether it may use colour.
    struct Style {
        var width = 80
        var colour = false

        /// A terminal on standard output: its width, and colour unless NO_COLOR is set (no-color.org);
        /// anything else: 80 columns (or $COLUMNS), no colour.
        static func standardOutput() -> Style {
            let environment = ProcessInfo.processInfo.environment
            let terminal = isatty(STDOUT_FILENO) == 1
            var size = winsize()
            let columns = terminal && ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0
                ? Int(size.ws_col) : Int(environment["COLUMNS"] ?? "") ?? 80
            return Style(width: columns, colour: terminal && (environment["NO_COLOR"] ?? "").isEmpty)
        }
    }

    static let labelWidth = 16
    static let valueWidth = 8

    static func render(_ reply: BrokerAPI.DashboardReply, style: Style = Style()) -> String {
        let counters = reply.counters
        let rows: [(String, KeyPath<BrokerAPI.Counters, Int>, Bool)] = [
            ("encryptions", \.encryptions, false), ("decryptions", \.decryptions, false),
            ("logins ok", \.loginsSucceeded, false), ("logins failed", \.loginsFailed, true),
            ("key exchanges", \.keyExchanges, false), ("aborted", \.keyExchangesAborted, true), ("alerts", \.alerts, true),
            ("registrations", \.registrations, false), ("active sessions", \.activeSessions, false),
        ]
        let width = max(style.width, labelWidth + valueWidth + 4)
        let barWidth = width - labelWidth - valueWidth - 3
        let largest = rows.map { Int64(counters[keyPath: $0.1]) }.max() ?? 0
        var lines = [paint(fit("qsm dashboard  \(ISO8601DateFormatter().string(from: Date()))", width), "1", style), ""]
        for (label, key, bad) in rows {
            let value = Int64(counters[keyPath: key])
            let bar = String(repeating: "█", count: barLength(value, largest: largest, width: barWidth))
            lines.append(pad(label) + String(value).leftPadded(valueWidth) + "  " + paint(bar, bad && value > 0 ? "31" : "32", style))
        }
        if let meanQber = counters.meanQber {
            lines.append(pad("mean QBER") + String(format: "%7.2f%%", meanQber * 100))
        }
        let minutes = reply.minutes
        lines.append("")
        lines.append(fit("last \(minutes.count) minutes" + (minutes.count > width - labelWidth - 12 ? " (a column per several)" : ""), width))
        let series: [(String, KeyPath<BrokerAPI.Minute, Int>)] = [
            ("sends", \.sends), ("decryptions", \.decryptions), ("failed logins", \.loginsFailed), ("alerts", \.alerts),
        ]
        for (label, key) in series {
            let values = minutes.map { Int64($0[keyPath: key]) }
            let peak = "  max \(values.max() ?? 0)"
            let room = max(1, width - labelWidth - peak.count)
            lines.append(pad(label) + paint(sparkline(squeeze(values, to: room)), "36", style) + peak)
        }
        return lines.joined(separator: "\n")
    }

    /// Cells of a bar of `width` for `value`: log(1 + value) against log(1 + largest), at least one
    /// cell for anything above zero.
    static func barLength(_ value: Int64, largest: Int64, width: Int) -> Int {
        guard value > 0, largest > 0, width > 0 else { return 0 }
        let share = log1p(Double(value)) / log1p(Double(largest))
        return max(1, min(width, Int((share * Double(width)).rounded())))
    }

    /// `values` in at most `count` columns, each the largest of the minutes it covers.
    static func squeeze(_ values: [Int64], to count: Int) -> [Int64] {
        guard values.count > count, count > 0 else { return values }
        return (0..<count).map { column in
            let start = column * values.count / count
            let end = max(start + 1, (column + 1) * values.count / count)
            return values[start..<end].max() ?? 0
        }
    }

    static func sparkline(_ values: [Int64]) -> String {
        let ticks = Array("▁▂▃▄▅▆▇█")
        let top = max(values.max() ?? 0, 1)
        return String(values.map { $0 == 0 ? " " : ticks[min(Int($0 * Int64(ticks.count - 1) / top), ticks.count - 1)] })
    }

    private static func pad(_ label: String) -> String { label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) }
    private static func fit(_ text: String, _ width: Int) -> String { String(text.prefix(width)) }

    /// `text` in the SGR colour `code` when the style allows colour.
    private static func paint(_ text: String, _ code: String, _ style: Style) -> String {
        style.colour && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

extension QSM {
    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Intrusion detection alerts (administrators).")
        @Flag(name: [.short, .long], help: "Print the latest alerts, then each new one as it is raised (as tail -f does).")
        var follow = false
        @Option(name: [.customShort("n"), .long], help: "At most this many (default 100; with --follow, the latest 10 before following).") var limit: Int?
        @OptionGroup var options: ClientOptions

        func run() async throws {
            try await runClient {
                let connection = try await options.connect()
                if follow {
                    for try await answer in connection.streamVerbatim(AdminAPI.WatchAlerts(last: limit ?? 10)) {
                        if options.json {
                            // The alert as qsmd said it, one line each.
                            Output.jsonLine((Output.parameters(of: answer) as? [String: Any])?["alert"] ?? [String: Any]())
                        } else {
                            Self.show(answer.reply.alert)
                        }
                        fflush(nil)
                    }
                    return
                }
                let answer = try await connection.callVerbatim(AdminAPI.Alerts(limit: limit))
                if options.json { Output.json(answer); return }
                if answer.reply.alerts.isEmpty { print("no alerts") }
                for alert in answer.reply.alerts { Self.show(alert) }
            }
        }

        static func show(_ alert: AdminAPI.Alert) {
            let evidence = alert.evidence.map(String.init).joined(separator: ",")
            print("\(Output.time(alert.at))  \(alert.severity.uppercased())  \(alert.rule)  \(alert.subject)  \(alert.message)  [events \(evidence)]")
        }
    }
}
