public import Foundation
public import QSMClient

/// Writes the dashboard as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched
/// (`qsm dashboard --html`); or, for qsm-web, its sections alone, styled by ``css`` served as a file so
/// that the page needs no inline style under its Content-Security-Policy.
///
/// Colours are the Okabe–Ito palette (readable with every common colour-vision deficiency), and every
/// series is told apart by a label or a marker shape as well as by its colour. Per-minute series are
/// bucketed to at most ``maxBars`` bars, so a chart stays a few hundred elements whatever the traffic.
public enum DashboardHTML {
    /// Okabe–Ito colours.
    enum Palette {
        static let orange = "#E69F00"
        static let skyBlue = "#56B4E9"
        static let bluishGreen = "#009E73"
        static let blue = "#0072B2"
        static let vermillion = "#D55E00"
        static let reddishPurple = "#CC79A7"
        static let ink = "#1a1a1a"
        static let grid = "#d0d0d0"
    }

    /// At most this many bars in a per-minute chart; wider windows are bucketed.
    static let maxBars = 180

    /// What one page shows.
    public struct Input: Sendable {
        /// The Dashboard (or WatchDashboard) reply.
        public var reply: BrokerAPI.DashboardReply
        /// The latest alerts (Admin.Alerts, or a user's own from Broker.MyAlerts), or nil when the caller
        /// may see none.
        public var alerts: [Alert]?
        /// Minutes the window covers.
        public var windowMinutes: Int
        /// When the page is written.
        public var now: Date
        /// Adds a refresh hint (for `--watch`: a browser showing the file reloads it).
        public var refreshSeconds: Int?

        /// What one page shows.
        public init(
            reply: BrokerAPI.DashboardReply, alerts: [Alert]?, windowMinutes: Int, now: Date, refreshSeconds: Int? = nil
        ) {
            self.reply = reply
            self.alerts = alerts
            self.windowMinutes = windowMinutes
            self.now = now
            self.refreshSeconds = refreshSeconds
        }
    }

    /// The page for `input`.
    public static func render(_ input: Input) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="qsm dashboard --html">

            """
        if let refresh = input.refreshSeconds { html += "<meta http-equiv=\"refresh\" content=\"\(refresh)\">\n" }
        html += "<title>qsm dashboard</title>\n<style>\n\(css)</style>\n</head>\n<body>\n"
        html += "<header><h1>qsm dashboard</h1><p class=\"meta\">written \(escape(timestamp(input.now))) · window: last "
        html += "\(escape(windowName(input.windowMinutes))) · times in UTC</p></header>\n"
        html += sections(input)
        html += "<footer>qsm · counters since the log began · per-minute charts from event times</footer>\n"
        html += "</body>\n</html>\n"
        return html
    }

    /// The counters, charts and alerts without the page around them, for a page of qsm-web's that links
    /// ``css`` as a style sheet.
    public static func sections(_ input: Input) -> String {
        let series = minuteSeries(input)
        let bucket = bucketMinutes(for: series.count)
        var html = countersSection(input.reply.counters)
        html += "<section class=\"charts\">\n"
        let charts: [(key: String, title: String, colour: String, value: (BrokerAPI.Minute) -> Int)] = [
            ("sends", "Messages sent", Palette.blue, \.sends),
            ("decryptions", "Messages decrypted", Palette.bluishGreen, \.decryptions),
            ("loginsFailed", "Failed logins", Palette.orange, \.loginsFailed),
            ("alerts", "Alerts raised", Palette.vermillion, \.alerts),
        ]
        for chart in charts {
            html += "<figure class=\"chart\" data-series=\"\(chart.key)\"><figcaption>\(escape(chart.title)) per "
            html += "\(escape(bucketName(bucket)))</figcaption>\n"
            html += barChart(
                values: bucketed(series.map { ($0.minute, Int64($0.values.map(chart.value) ?? 0)) }, minutes: bucket),
                bucket: bucket, colour: chart.colour, title: chart.title)
            html += "</figure>\n"
        }
        html += "</section>\n"
        html += "<section class=\"wide\"><figure class=\"chart\"><figcaption>QBER of the latest key exchanges</figcaption>\n"
        html += qberLegend()
        html += qberChart(input.reply.exchanges)
        html += "</figure>\n"
        html += alertsSection(input.alerts)
        html += "</section>\n"
        return html
    }

    // MARK: Counters

    private static func countersSection(_ c: BrokerAPI.Counters) -> String {
        let modes = ["otp", "aes", "pqc"]
        func int(_ value: Int?) -> Int64 { Int64(value ?? 0) }
        func card(_ title: String, _ key: String, _ total: Int, _ parts: [(String, String, Int64)]) -> String {
            var text = "<div class=\"card\"><h2>\(escape(title))</h2>"
            text += "<p class=\"value\" data-counter=\"\(key)\">\(group(Int64(total)))</p><ul>"
            for (label, counterKey, value) in parts {
                text += "<li><span>\(escape(label))</span> <b data-counter=\"\(counterKey)\">\(group(value))</b></li>"
            }
            return text + "</ul></div>\n"
        }
        let encryptions = c.encryptionsByMode ?? [:], decryptions = c.decryptionsByMode ?? [:]
        let severities = c.alertsBySeverity ?? [:]
        var html = "<section class=\"counters\">\n"
        html += card("Encryptions", "encryptions", c.encryptions, modes.map { ($0, "encryptions.\($0)", int(encryptions[$0])) })
        html += card("Decryptions", "decryptions", c.decryptions, modes.map { ($0, "decryptions.\($0)", int(decryptions[$0])) })
        html += card("Logins", "loginsSucceeded", c.loginsSucceeded, [("failed", "loginsFailed", int(c.loginsFailed))])
            .replacingOccurrences(of: "<ul>", with: "<p class=\"sub\">succeeded</p><ul>")
        let meanQBER = String(format: "%.2f%%", (c.meanQber ?? 0) * 100)
        html += card("Key exchanges", "keyExchanges", c.keyExchanges, [("aborted", "keyExchangesAborted", int(c.keyExchangesAborted))])
            .replacingOccurrences(of: "<ul>", with: "<p class=\"sub\">completed · mean QBER \(meanQBER)</p><ul>")
        html += card("Alerts", "alerts", c.alerts, ["low", "medium", "high", "critical"].map {
            ($0, "alerts.\($0)", int(severities[$0]))
        })
        html += card("Active sessions", "activeSessions", c.activeSessions, [
            ("registered users", "registrations", int(c.registrations)),
            ("key bits made", "keyBitsMade", int(c.keyBitsMade)),
            ("key bits used", "keyBitsUsed", int(c.keyBitsUsed)),
        ])
        return html + "</section>\n"
    }

    // MARK: Per-minute charts

    struct MinuteValues {
        var minute: Int64
        /// What the broker reported for the minute; nil for a minute it reported nothing in.
        var values: BrokerAPI.Minute?
    }

    /// The window's minutes, oldest first, ending at the current minute (or the latest minute the
    /// broker reported, if its clock is ahead), zeros where the broker reported nothing.
    static func minuteSeries(_ input: Input) -> [MinuteValues] {
        let reported = input.reply.minutes.map { MinuteValues(minute: Int64($0.minute), values: $0) }
        let byMinute = Dictionary(reported.map { ($0.minute, $0) }, uniquingKeysWith: { _, last in last })
        let nowMinute = Int64(input.now.timeIntervalSince1970 / 60)
        let last = max(nowMinute, reported.map(\.minute).max() ?? nowMinute)
        let first = last - Int64(input.windowMinutes) + 1
        return (first...last).map { byMinute[$0] ?? MinuteValues(minute: $0, values: nil) }
    }

    /// The bucket width in minutes that keeps `count` minutes within ``maxBars`` bars.
    static func bucketMinutes(for count: Int) -> Int {
        [1, 2, 5, 10, 15, 30, 60, 120].first { (count + $0 - 1) / $0 <= maxBars } ?? 120
    }

    /// Sums consecutive minutes into buckets of `minutes`, aligned to multiples of the bucket width.
    static func bucketed(_ points: [(Int64, Int64)], minutes: Int) -> [(start: Int64, value: Int64)] {
        guard minutes > 1 else { return points.map { ($0.0, $0.1) } }
        var result: [(start: Int64, value: Int64)] = []
        for (minute, value) in points {
            let start = minute - ((minute % Int64(minutes)) + Int64(minutes)) % Int64(minutes)
            if let lastStart = result.last?.start, lastStart == start {
                result[result.count - 1].value += value
            } else {
                result.append((start, value))
            }
        }
        return result
    }

    private static let chartWidth = 600.0, chartHeight = 220.0
    private static let left = 58.0, right = 14.0, top = 12.0, bottom = 44.0

    private static func barChart(values: [(start: Int64, value: Int64)], bucket: Int, colour: String, title: String) -> String {
        let plotWidth = chartWidth - left - right, plotHeight = chartHeight - top - bottom
        let largest = values.map(\.value).max() ?? 0
        let scaleTop = niceCeiling(largest)
        var svg = svgOpen(title: "\(title) per \(bucketName(bucket))")
        // Round ticks: a top of 1, 2 or 5 × 10^k is cut in 5 (5 × 10^k) or 2 (the others).
        let tickStep = scaleTop % 5 == 0 && (scaleTop / 5) % 2 != 0 || scaleTop == 5 ? scaleTop / 5 : max(scaleTop / 2, 1)
        svg += yAxis(ticks: stride(from: Int64(0), through: scaleTop, by: Int(tickStep)).map { Double($0) }, top: Double(scaleTop), plotHeight: plotHeight,
                     label: { group(Int64($0)) })
        let slot = plotWidth / Double(max(values.count, 1))
        let barWidth = max(slot * 0.8, 0.5)
        for (index, point) in values.enumerated() where point.value > 0 {
            let height = plotHeight * Double(point.value) / Double(scaleTop)
            let x = left + Double(index) * slot + (slot - barWidth) / 2
            svg += "<rect x=\"\(f(x))\" y=\"\(f(top + plotHeight - height))\" width=\"\(f(barWidth))\" height=\"\(f(height))\" fill=\"\(colour)\">"
            svg += "<title>\(escape(clock(point.start))) UTC: \(group(point.value))</title></rect>\n"
        }
        // Time ticks: five labels across the window.
        if !values.isEmpty {
            let step = max(1, (values.count - 1) / 4)
            for index in stride(from: 0, to: values.count, by: step) {
                let x = left + (Double(index) + 0.5) * slot
                svg += "<line x1=\"\(f(x))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight + 4))\" stroke=\"\(Palette.ink)\"/>"
                svg += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 17))\" text-anchor=\"middle\" class=\"tick\">\(escape(clock(values[index].start)))</text>\n"
            }
        }
        if largest == 0 {
            svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" class=\"empty\">none in this window</text>\n"
        }
        svg += axisLabels(x: "time (UTC)", y: "count per \(bucketName(bucket))", plotHeight: plotHeight)
        return svg + "</svg>\n"
    }

    // MARK: QBER chart

    private static func qberChart(_ exchanges: [BrokerAPI.ExchangeQber]) -> String {
        let width = 1240.0, height = 280.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let threshold = exchanges.last.map(\.threshold).flatMap { $0 > 0 ? $0 : nil } ?? 0.11
        let highest = exchanges.map { max($0.qber, $0.qberUpperBound) }.max() ?? 0
        // Percent scale: at least 15% so the threshold shows, rounded up to a multiple of 5%.
        let scaleTop = max(15, (min(highest * 100, 100) / 5).rounded(.up) * 5)
        func y(_ qber: Double) -> Double { top + plotHeight - plotHeight * min(qber * 100, scaleTop) / scaleTop }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"100%\" role=\"img\" aria-label=\"QBER of the latest key exchanges\">\n"
        let ticks = stride(from: 0.0, through: scaleTop, by: scaleTop > 30 ? 10 : 5).map { $0 }
        svg += yAxis(ticks: ticks, top: scaleTop, plotHeight: plotHeight, label: { "\(Int($0))%" }, width: width)
        let thresholdY = y(threshold)
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(thresholdY))\" x2=\"\(f(width - right))\" y2=\"\(f(thresholdY))\" stroke=\"\(Palette.ink)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
        svg += "<text x=\"\(f(width - right - 4))\" y=\"\(f(thresholdY - 5))\" text-anchor=\"end\" class=\"tick\">abort threshold \(f(threshold * 100))%</text>\n"
        let slot = plotWidth / Double(max(exchanges.count, 1))
        for (index, exchange) in exchanges.enumerated() {
            let x = left + (Double(index) + 0.5) * slot
            let qber = exchange.qber, bound = exchange.qberUpperBound
            let aborted = exchange.aborted
            let label = "\(clock(Int64(exchange.at) / 60_000_000)) UTC: QBER \(f(qber * 100))%, bound \(f(bound * 100))%\(aborted ? ", aborted" : "")"
            if bound > qber {
                svg += "<line x1=\"\(f(x))\" y1=\"\(f(y(qber)))\" x2=\"\(f(x))\" y2=\"\(f(y(bound)))\" stroke=\"\(Palette.grid)\" stroke-width=\"2\"/>"
            }
            if aborted {
                // A vermillion cross: shape and colour both say "aborted".
                let cy = y(qber), r = 5.0
                svg += "<path d=\"M\(f(x - r)) \(f(cy - r))L\(f(x + r)) \(f(cy + r))M\(f(x - r)) \(f(cy + r))L\(f(x + r)) \(f(cy - r))\" stroke=\"\(Palette.vermillion)\" stroke-width=\"2.5\" class=\"aborted\"><title>\(escape(label))</title></path>\n"
            } else {
                svg += "<circle cx=\"\(f(x))\" cy=\"\(f(y(qber)))\" r=\"4.5\" fill=\"\(Palette.blue)\" class=\"completed\"><title>\(escape(label))</title></circle>\n"
            }
        }
        if exchanges.isEmpty {
            svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" class=\"empty\">no key exchanges yet</text>\n"
        }
        svg += axisLabels(x: "key exchange, oldest to newest (last \(exchanges.count))", y: "QBER", plotHeight: plotHeight, width: width)
        return svg + "</svg>\n"
    }

    /// The QBER chart's legend, above the chart rather than inside its plot, where a confidence bar of an
    /// early exchange crossed it (issue 18 item 19).
    private static func qberLegend() -> String {
        // Colours by class, not a style attribute: qsm-web's Content-Security-Policy allows no inline style.
        func item(_ mark: String, _ colour: String, _ label: String) -> String {
            "<span class=\"legend-item\"><b class=\"mark-\(colour)\" aria-hidden=\"true\">\(mark)</b><span>\(label)</span></span>"
        }
        return "<p class=\"legend\">" + item("●", "blue", "completed") + item("✕", "vermillion", "aborted")
            + item("┃", "grid", "to the upper confidence bound") + "</p>\n"
    }

    // MARK: Alerts

    private static func alertsSection(_ alerts: [Alert]?) -> String {
        var html = "<div class=\"alerts\"><h2>Latest alerts</h2>\n"
        guard let alerts else {
            return html + "<p class=\"empty\">Shown to administrators only (root, qsmd's user, --admin-group).</p></div>\n"
        }
        if alerts.isEmpty { return html + "<p class=\"empty\">No alerts.</p></div>\n" }
        html += "<table><thead><tr><th>time (UTC)</th><th>severity</th><th>rule</th><th>subject</th><th>what</th></tr></thead><tbody>\n"
        for alert in alerts {
            let severity = alert.severity
            html += "<tr><td>\(escape(timestamp(Date(timeIntervalSince1970: Double(alert.at) / 1_000_000))))</td>"
            html += "<td class=\"sev sev-\(escape(severity))\">\(escape(severity))</td><td>\(escape(alert.rule))</td>"
            html += "<td>\(escape(alert.subject))</td><td>\(escape(alert.message))</td></tr>\n"
        }
        return html + "</tbody></table></div>\n"
    }

    // MARK: Drawing helpers

    private static func svgOpen(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(chartWidth)) \(f(chartHeight))\" width=\"100%\" role=\"img\" aria-label=\"\(escape(title))\">\n"
    }

    private static func yAxis(
        ticks: [Double], top scaleTop: Double, plotHeight: Double, label: (Double) -> String, width: Double = chartWidth
    ) -> String {
        var svg = ""
        for tick in ticks {
            let y = top + plotHeight - plotHeight * tick / max(scaleTop, 1e-9)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" stroke=\"\(Palette.grid)\" stroke-width=\"1\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"tick\">\(escape(label(tick)))</text>\n"
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"\(Palette.ink)\"/>"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotHeight))\" stroke=\"\(Palette.ink)\"/>\n"
        return svg
    }

    private static func axisLabels(x: String, y: String, plotHeight: Double, width: Double = chartWidth) -> String {
        let height = top + plotHeight + bottom
        return "<text x=\"\(f(left + (width - left - right) / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\" class=\"axis\">\(escape(x))</text>"
            + "<text transform=\"translate(14 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis\">\(escape(y))</text>\n"
    }

    /// The smallest of 1, 2, 5 × 10^k at or above `value` (at least 1), so axes end on round numbers.
    static func niceCeiling(_ value: Int64) -> Int64 {
        guard value > 1 else { return 1 }
        var magnitude: Int64 = 1
        while magnitude <= value / 10 { magnitude *= 10 }
        for factor: Int64 in [1, 2, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    static func windowName(_ minutes: Int) -> String {
        minutes % 60 == 0 ? (minutes == 60 ? "hour" : "\(minutes / 60) hours") : "\(minutes) minutes"
    }

    static func bucketName(_ minutes: Int) -> String { minutes == 1 ? "minute" : "\(minutes) minutes" }

    /// Escapes text for HTML and XML (SVG) alike.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                // Control characters are not allowed in XML 1.0.
                if character.value < 0x20 && character != "\n" && character != "\t" { continue }
                result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// 1234567 as "1,234,567".
    static func group(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    private static func f(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }

    private static func clock(_ minute: Int64) -> String {
        let seconds = ((minute % 1440) + 1440) % 1440 * 60
        return String(format: "%02lld:%02lld", seconds / 3600, seconds / 60 % 60)
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }

    /// The page's style sheet: inline in ``render(_:)``, a file of its own in qsm-web.
    public static let css = """
        :root { color-scheme: light; }
        body { font: 14px/1.4 system-ui, -apple-system, "DejaVu Sans", sans-serif; margin: 20px; color: #1a1a1a; background: #fafafa; }
        header h1 { margin: 0; font-size: 22px; }
        .meta { margin: 2px 0 14px; color: #555; }
        .counters { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; }
        .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px; min-width: 0; overflow-wrap: anywhere; }
        .card h2 { font-size: 13px; margin: 0; color: #555; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
        .card .value { font-size: 28px; font-weight: 700; margin: 4px 0 0; }
        .card .sub { margin: 0; color: #555; font-size: 12px; }
        .card ul { list-style: none; padding: 0; margin: 6px 0 0; font-size: 13px; }
        .card li { display: flex; justify-content: space-between; gap: 8px; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 10px; margin-top: 12px; }
        .legend { margin: 0 0 4px; font-size: 12px; color: #333; display: flex; flex-wrap: wrap; gap: 4px 16px; }
        .legend-item { display: inline-flex; align-items: center; gap: 5px; }
        .wide { margin-top: 12px; }
        figure.chart { margin: 0 0 10px; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
        figcaption { font-weight: 600; margin-bottom: 2px; }
        svg .tick { font-size: 11px; fill: #333; }
        svg .axis { font-size: 12px; fill: #1a1a1a; }
        svg .empty { font-size: 14px; fill: #777; }
        .alerts { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; }
        .alerts h2 { font-size: 15px; margin: 0 0 6px; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; }
        th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; }
        .sev { font-weight: 700; }
        .sev-critical, .sev-high { color: #A33B00; }
        .sev-medium { color: #8a5a00; }
        p.empty { color: #777; }
        footer { margin-top: 12px; color: #777; font-size: 12px; }
        .mark-blue { color: \(Palette.blue); }
        .mark-vermillion { color: \(Palette.vermillion); }
        .mark-grid { color: \(Palette.grid); }

        """
}
