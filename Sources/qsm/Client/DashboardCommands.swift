import ArgumentParser
import Foundation
import Varlink

extension QSM {
    struct Dashboard: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encryptions, decryptions, logins, key exchanges and alerts, with per-minute sparklines.",
            discussion: """
                --html FILE writes one self-contained HTML page (inline SVG and CSS, no script, nothing fetched): \
                counters, per-minute charts over the window, the QBER of the latest key exchanges against the \
                11% threshold and, for administrators, the latest alerts. With --watch the file is rewritten \
                (written beside it, then renamed over it) whenever something happens.
                """)
        @Flag(help: "Redraw whenever something happens (Ctrl-C to stop).") var watch = false
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

        func run() throws {
            if let input, let html {
                try DashboardFile.renderSaved(input, to: html, minutes: DashboardWindow.minutes(window) ?? 60)
                return
            }
            let token = try SessionStore.token()
            let minutes = DashboardWindow.minutes(window) ?? 60
            let parameters: [String: Any] = ["token": token, "minutes": minutes]
            try runClient {
                let connection = try options.connect()
                if let html {
                    try DashboardFile.run(
                        path: html, watch: watch, minutes: minutes, parameters: parameters, connection: connection,
                        options: options)
                    return
                }
                if !watch {
                    let reply = try connection.call("io.qsm.Broker.Dashboard", parameters)
                    if options.json { Output.json(reply) } else { print(DashboardRenderer.render(reply)) }
                    return
                }
                try connection.stream("io.qsm.Broker.WatchDashboard", parameters) { reply in
                    if options.json {
                        Output.json(reply)
                    } else {
                        print("\u{1B}[H\u{1B}[2J" + DashboardRenderer.render(reply))
                    }
                    fflush(nil)
                    return true
                }
            }
        }
    }
}

/// Draws the dashboard as text: a bar per counter, a sparkline per per-minute series.
enum DashboardRenderer {
    static func render(_ reply: [String: Any]) -> String {
        let counters = reply["counters"] as? [String: Any] ?? [:]
        let rows: [(String, String)] = [
            ("encryptions", "encryptions"), ("decryptions", "decryptions"), ("logins ok", "loginsSucceeded"),
            ("logins failed", "loginsFailed"), ("key exchanges", "keyExchanges"), ("aborted", "keyExchangesAborted"),
            ("alerts", "alerts"), ("registrations", "registrations"), ("active sessions", "activeSessions"),
        ]
        let largest = max(rows.map { Output.int(counters[$0.1]) }.max() ?? 0, 1)
        var lines = ["qsm dashboard  \(ISO8601DateFormatter().string(from: Date()))", ""]
        for (label, key) in rows {
            let value = Output.int(counters[key])
            let bar = String(repeating: "█", count: Int(value * 40 / largest))
            lines.append(label.padding(toLength: 16, withPad: " ", startingAt: 0) + String(value).leftPadded(8) + "  " + bar)
        }
        if counters["meanQber"] != nil {
            lines.append(String(format: "%@%8.2f%%", "mean QBER".padding(toLength: 16, withPad: " ", startingAt: 0), Output.double(counters["meanQber"]) * 100))
        }
        let minutes = reply["minutes"] as? [[String: Any]] ?? []
        lines.append("")
        lines.append("last \(minutes.count) minutes")
        for (label, key) in [("sends", "sends"), ("decryptions", "decryptions"), ("failed logins", "loginsFailed"), ("alerts", "alerts")] {
            let values = minutes.map { Output.int($0[key]) }
            lines.append(label.padding(toLength: 16, withPad: " ", startingAt: 0) + sparkline(values) + "  max \(values.max() ?? 0)")
        }
        return lines.joined(separator: "\n")
    }

    static func sparkline(_ values: [Int64]) -> String {
        let ticks = Array("▁▂▃▄▅▆▇█")
        let top = max(values.max() ?? 0, 1)
        return String(values.map { $0 == 0 ? " " : ticks[min(Int($0 * Int64(ticks.count - 1) / top), ticks.count - 1)] })
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

extension QSM {
    struct Alerts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Intrusion detection alerts (administrators).")
        @Flag(help: "Print the latest alerts, then each new one as it is raised (as tail -f does).") var follow = false
        @Option(help: "At most this many (default 100; with --follow, the latest 10 before following).") var limit: Int?
        @OptionGroup var options: ClientOptions

        func run() throws {
            try runClient {
                let connection = try options.connect()
                if follow {
                    try connection.stream("io.qsm.Admin.WatchAlerts", ["last": limit ?? 10]) { reply in
                        if let alert = reply["alert"] as? [String: Any] { Self.show(alert, json: options.json) }
                        fflush(nil)
                        return true
                    }
                    return
                }
                var parameters: [String: Any] = [:]
                if let limit { parameters["limit"] = limit }
                let reply = try connection.call("io.qsm.Admin.Alerts", parameters)
                if options.json { Output.json(reply); return }
                let alerts = reply["alerts"] as? [[String: Any]] ?? []
                if alerts.isEmpty { print("no alerts") }
                for alert in alerts { Self.show(alert, json: false) }
            }
        }

        static func show(_ alert: [String: Any], json: Bool) {
            if json { Output.json(alert); return }
            let evidence = (alert["evidence"] as? [Any] ?? []).map { "\(Output.int($0))" }.joined(separator: ",")
            print("\(Output.time(alert["at"]))  \((alert["severity"] as? String ?? "").uppercased())  \(alert["rule"] ?? "")  \(alert["subject"] ?? "")  \(alert["message"] ?? "")  [events \(evidence)]")
        }
    }
}
