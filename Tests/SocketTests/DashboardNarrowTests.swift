import Foundation
import QSMTesting
import Testing

/// The HTML dashboard at 640 pixels (issue 18 item 19): the counter cards overflowed sideways (the ALERTS
/// card clipped, "medium0" run together) and a confidence bar crossed the QBER chart's legend. Headless
/// Chromium lays the page out; a script added to a copy of it measures the boxes.
@Suite("qsm dashboard --html: a narrow window")
struct DashboardNarrowTests {
    /// Measures the laid-out page and writes what is wrong into a <pre id="layout-report"> as JSON.
    static let measure = """
        <script>
        (function () {
          const width = document.documentElement.clientWidth;
          const problems = [];
          const box = e => e.getBoundingClientRect();
          for (const e of document.querySelectorAll('.card, .card *, figure, figure *')) {
            const r = box(e);
            if (r.width === 0 && r.height === 0) continue;
            if (r.right > width + 0.5 || r.left < -0.5) {
              problems.push('outside the window: ' + e.tagName + ' "' + (e.textContent || '').slice(0, 30) + '" ' + Math.round(r.left) + '..' + Math.round(r.right));
            }
          }
          for (const li of document.querySelectorAll('.card li')) {
            const [label, value] = li.children;
            if (!label || !value) continue;
            const gap = box(value).left - box(label).right;
            if (gap < 4) problems.push('label and value touch: "' + li.textContent + '" gap ' + gap.toFixed(1));
          }
          const chart = document.querySelector('svg[aria-label^="QBER"]');
          const bars = [...chart.querySelectorAll('line')].filter(l => l.getAttribute('stroke-width') === '2');
          const words = ['completed', 'aborted', 'to the upper confidence bound'];
          const legend = [...document.querySelectorAll('text, span')].filter(t => words.includes(t.textContent.trim()));
          if (legend.length < 3) problems.push('legend not found');
          for (const t of legend) {
            const a = box(t);
            for (const l of bars) {
              const b = box(l);
              if (b.left < a.right && b.right > a.left && b.top < a.bottom && b.bottom > a.top) problems.push('a confidence bar crosses the legend "' + t.textContent + '"');
            }
          }
          const report = document.createElement('pre');
          report.id = 'layout-report';
          report.textContent = JSON.stringify({width: width, scrollWidth: document.documentElement.scrollWidth, bars: bars.length, problems: problems});
          document.body.appendChild(report);
        })();
        </script>
        """

    @Test func at640PixelsNothingOverflowsAndNoBarCrossesTheLegend() async throws {
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "Debian's chromium is missing: tools/test installs it")
        let directory = try TemporaryDirectory(prefix: "qsm-dashboard-narrow")
        // Large counters (long numbers) and aborted exchanges early on, whose bars reach the top of the plot.
        let last: Int64 = 29_000_000
        var minutes: [[String: Any]] = []
        for index in 0..<60 {
            let minute: Int64 = last - 59 + Int64(index)
            let sends: Int = 5 + index % 3
            let alerts: Int = index % 20 == 0 ? 1 : 0
            minutes.append(["minute": minute, "sends": sends, "decryptions": 3, "loginsFailed": index % 2, "alerts": alerts])
        }
        var exchanges: [[String: Any]] = []
        for index in 0..<100 {
            let aborted = (10...30).contains(index) && index % 2 == 0
            let at: Int64 = (last - 100 + Int64(index)) * 60_000_000
            let qber: Double = aborted ? 0.25 : 0.01
            let bound: Double = aborted ? 0.29 : 0.04
            exchanges.append(["at": at, "qber": qber, "qberUpperBound": bound, "threshold": 0.11, "aborted": aborted])
        }
        let counters: [String: Any] = [
            "encryptions": 1_000_080, "decryptions": 864_000, "encryptionsByMode": ["aes": 1_000_080, "otp": 12_345, "pqc": 67_890],
            "decryptionsByMode": ["aes": 864_000], "alerts": 1_234_567,
            "alertsBySeverity": ["medium": 1_000_000, "high": 234_567, "low": 0, "critical": 0], "loginsSucceeded": 123_456,
            "loginsFailed": 654_321, "keyExchanges": 100_000, "keyExchangesAborted": 99_999, "activeSessions": 12_345,
            "registrations": 100_000, "keyBitsMade": 123_456_789_012, "keyBitsUsed": 98_765_432_101,
        ]
        let input = directory.appending("reply.json")
        try JSONSerialization.data(withJSONObject: ["counters": counters, "minutes": minutes, "exchanges": exchanges])
            .write(to: URL(fileURLWithPath: input))
        let page = directory.appending("dashboard.html")
        let (status, _, error) = try await ChildProcess.run(Products.qsm, ["dashboard", "--html", page, "--input", input])
        #expect(status == 0, "\(error)")
        let measured = directory.appending("measured.html")
        try String(contentsOfFile: page, encoding: .utf8).replacingOccurrences(of: "</body>", with: Self.measure + "</body>")
            .write(toFile: measured, atomically: true, encoding: .utf8)

        let (renderStatus, dom, renderError) = try await ChildProcess.run("/usr/bin/timeout", [
            "120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=\(directory.appending("profile"))", "--window-size=640,3000", "--virtual-time-budget=1000",
            "--dump-dom", "file://\(measured)",
        ], environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path])
        #expect(renderStatus == 0, "\(renderError)")
        let text = dom.joined(separator: "\n")
        let start = try #require(text.range(of: "<pre id=\"layout-report\">"), "no report: \(text.suffix(500))")
        let end = try #require(text.range(of: "</pre>", range: start.upperBound..<text.endIndex))
        let json = String(text[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect(report["width"] as? Int == 640)
        #expect(report["scrollWidth"] as? Int == 640, "the page scrolls sideways: \(report)")
        #expect((report["bars"] as? Int ?? 0) >= 100, "the chart's confidence bars were not found: \(report)")
        let problems = report["problems"] as? [String] ?? ["no problems list"]
        #expect(problems.isEmpty, "\(problems.prefix(12).joined(separator: "\n"))")
    }
}
