import Broker
import EventLog
import Forensics
import Foundation
import QSMDaemon
import QSMEvents
import QSMTesting
import Testing
import Varlink

@Suite("qsm dashboard --html: a self-contained page that parses, holds the Dashboard's counters and renders")
struct DashboardPageTests {
    /// The counters of a Dashboard reply as the page's `data-counter` names them.
    static func expectedCounters(_ reply: [String: Any]) -> [String: Int] {
        let counters = reply["counters"] as? [String: Any] ?? [:]
        var expected: [String: Int] = [:]
        for key in [
            "encryptions", "decryptions", "loginsSucceeded", "loginsFailed", "keyExchanges", "keyExchangesAborted",
            "alerts", "activeSessions", "registrations", "keyBitsMade", "keyBitsUsed",
        ] {
            expected[key] = (counters[key] as? NSNumber)?.intValue ?? -1
        }
        for (map, prefix, keys) in [
            ("encryptionsByMode", "encryptions", ["otp", "aes", "pqc"]), ("decryptionsByMode", "decryptions", ["otp", "aes", "pqc"]),
            ("alertsBySeverity", "alerts", ["low", "medium", "high", "critical"]),
        ] {
            let values = counters[map] as? [String: Any] ?? [:]
            for key in keys { expected["\(prefix).\(key)"] = (values[key] as? NSNumber)?.intValue ?? 0 }
        }
        return expected
    }

    static func checkStructure(_ report: [String: Any], svgCount: Int = 5) {
        #expect(report["doctype"] as? Bool == true)
        #expect((report["errors"] as? [String] ?? ["?"]).isEmpty, "\(report["errors"] ?? "")")
        #expect((report["unclosed"] as? [String] ?? ["?"]).isEmpty, "\(report["unclosed"] ?? "")")
        #expect((report["external"] as? [String] ?? ["?"]).isEmpty, "\(report["external"] ?? "")")
        #expect(report["scripts"] as? Int == 0)
        let svgs = report["svgs"] as? [[String: Any]] ?? []
        #expect(svgs.count == svgCount)
        for svg in svgs {
            #expect(svg["root"] as? String == "{http://www.w3.org/2000/svg}svg")
            // Every chart labels its axes.
            let texts = svg["texts"] as? [String] ?? []
            #expect(texts.contains("time (UTC)") || texts.contains("QBER"), "\(texts)")
        }
    }

    @Test func thePageParsesHoldsTheCountersAndRendersInChromium() async throws {
        let daemon = try await Daemon()
        let directory = daemon.directory
        // Zero data: one user, nothing else; the page still parses and says so.
        let viewer = directory.appending("viewer")
        #expect(try await daemon.qsm(["register", "viewer", "--password-stdin"], input: "viewer-password", home: viewer).0 == 0)
        #expect(try await daemon.qsm(["login", "viewer", "--password-stdin"], input: "viewer-password", home: viewer).0 == 0)
        let empty = directory.appending("empty.html")
        let (emptyStatus, _, emptyError) = try await daemon.qsm(["dashboard", "--html", empty], home: viewer)
        #expect(emptyStatus == 0, "\(emptyError)")
        let emptyReport = try await DashboardChecks.json(DashboardChecks.python, DashboardChecks.pageScript, [empty])
        Self.checkStructure(emptyReport)
        #expect(try String(contentsOfFile: empty, encoding: .utf8).contains("no key exchanges yet"))
        #expect((emptyReport["counters"] as? [String: Int])?["encryptions"] == 0)

        _ = try await dashboardWorkload(daemon)
        let page = directory.appending("dashboard.html")
        let (status, out, err) = try await daemon.qsm(["dashboard", "--html", page, "--window", "24h"], home: viewer)
        #expect(status == 0 && out.contains("wrote"), "\(err)")
        let reply = try await dashboardReply(daemon, home: viewer, window: "24h")
        let report = try await DashboardChecks.json(DashboardChecks.python, DashboardChecks.pageScript, [page])
        Self.checkStructure(report)
        let expected = Self.expectedCounters(reply)
        #expect(report["counters"] as? [String: Int] == expected)
        // The workload's figures, so a page and a reply that agree on zeros do not pass.
        #expect(expected["encryptions"] == 4 && expected["encryptions.aes"] == 2 && expected["decryptions"] == 3 && expected["decryptions.pqc"] == 1)
        // brute_force is high; the workload's qkd_abort comes from a simulated eavesdropper, so it is low.
        #expect(expected["keyExchangesAborted"] == 1 && expected["loginsFailed"] == 6)
        #expect(expected["alerts.high"] == 1 && expected["alerts.low"] == 1)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("brute_force") && html.contains("qkd_abort"), "the latest alerts are listed for an administrator")
        #expect(html.contains("abort threshold 11%"))
        #expect(html.contains("class=\"aborted\"") && html.contains("class=\"completed\""))
        // 24 hours are drawn as 10-minute buckets: at most 144 bars a chart.
        for svg in (report["svgs"] as? [[String: Any]] ?? []).prefix(4) { #expect((svg["rects"] as? Int ?? 999) <= 144) }

        // Headless Chromium draws it: the right size, mostly not blank, the charts' colours present.
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "Debian's chromium is missing: tools/test installs it")
        let png = directory.appending("dashboard.png")
        let profile = directory.appending("chromium-profile")
        let (renderStatus, _, renderError) = try await ChildProcess.run("/usr/bin/timeout", [
            "120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
            "--screenshot=\(png)", "--window-size=1280,1600", "file://\(page)",
        ], environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path])
        #expect(renderStatus == 0, "\(renderError)")
        let pixels = try await DashboardChecks.json(DashboardChecks.python, DashboardChecks.pngScript, [png])
        #expect(pixels["width"] as? Int == 1280 && pixels["height"] as? Int == 1600)
        let ink = pixels["ink"] as? Int ?? 0, total = 1280 * 1600
        #expect(ink > total / 10, "only \(ink) of \(total) pixels are not background")
        #expect(pixels["blue"] as? Int ?? 0 > 200, "the sends bars and completed exchanges (Okabe-Ito blue) are missing")
        #expect(pixels["vermillion"] as? Int ?? 0 > 40, "the alert bars and aborted exchanges (vermillion) are missing")
        #expect(try await daemon.stop() == 0)
    }

    @Test func watchRewritesThePageAtomicallyAsThingsHappen() async throws {
        let daemon = try await Daemon()
        let viewer = daemon.directory.appending("viewer")
        #expect(try await daemon.qsm(["register", "viewer", "--password-stdin"], input: "viewer-password", home: viewer).0 == 0)
        #expect(try await daemon.qsm(["login", "viewer", "--password-stdin"], input: "viewer-password", home: viewer).0 == 0)
        let page = daemon.directory.appending("watched.html")
        let watcher = try ChildProcess(Products.qsm, ["dashboard", "--html", page, "--watch"], environment: [
            "PATH": "/usr/bin:/bin", "QSM_SOCKET": daemon.socket, "QSM_HOME": viewer, "HOME": daemon.directory.path,
        ])
        func registrations() -> Int? {
            guard let html = try? String(contentsOfFile: page, encoding: .utf8),
                  let range = html.range(of: "data-counter=\"registrations\">") else { return nil }
            return Int(html[range.upperBound...].prefix { $0.isNumber })
        }
        func waitFor(_ count: Int) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if registrations() == count { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        #expect(try await waitFor(1), "the first page was not written")
        #expect(try await daemon.qsm(["register", "second", "--password-stdin"], input: "second-password", home: viewer).0 == 0)
        #expect(try await waitFor(2), "the page was not rewritten after a registration")
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("http-equiv=\"refresh\""))
        // Written beside the page and renamed over it: no temporary file is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: daemon.directory.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        watcher.kill(SIGTERM)
        _ = try await watcher.wait()
        #expect(try await daemon.stop() == 0)
    }

    /// A day of logged traffic, not a reply written by hand: Forensics' SyntheticLog writes a real log of
    /// sends, reads, logins, refusals, key exchanges and alerts, a burst of 140 events every 10 minutes for
    /// 24 hours; every event goes through the broker's own projections (BrokerState, as qsmd folds its log)
    /// and qsmd's Dashboard mapping, and qsm renders the reply. The page holds the log's counts, and its
    /// charts stay a few hundred elements (10-minute buckets), not one bar per event. 20,160 events, not a
    /// million: a debug build folds about 10,000 a second and each burst is one fsync-ed commit, and the
    /// page's size does not depend on the count (the 24-hour window is what sets its 144 buckets).
    @Test func aDayOfLoggedTrafficIsCountedAndBucketedNotDrawnOneByOne() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-dashboard")
        let store = try EventStore(directory: directory.appending("log"))
        defer { store.close() }
        let seed = UInt64.random(in: 0...UInt64(UInt32.max))
        print("dashboard day: synthetic log from seed \(seed)")
        var generator = SeededGenerator(seed: seed)
        let perBurst = 140
        let firstMinute: Int64 = 30_000_000
        for burst in 0..<144 {
            _ = try await SyntheticLog.append(
                count: perBurst, users: 50, to: store, batchSize: perBurst,
                startMicros: (firstMinute + Int64(burst) * 10) * 60_000_000 + 1_000_000, using: &generator)
        }
        // The broker's fold, and a naive count of the same events beside it.
        var state = BrokerState()
        var sendsByMinute: [Int64: Int64] = [:]
        var naive = (sends: 0, reads: 0, failedLogins: 0, alerts: 0)
        try store.forEach(from: 1) { stored in
            let event = try QSMEvent(stored)
            state.evolve(event)
            switch event.body {
            case .messageSent?:
                naive.sends += 1
                sendsByMinute[event.recordedAtUs / 60_000_000, default: 0] += 1
            case .messageDecrypted?: naive.reads += 1
            case .loginFailed?: naive.failedLogins += 1
            case .alertRaised?: naive.alerts += 1
            default: break
            }
            return true
        }
        #expect(try store.head().position == 144 * UInt64(perBurst))
        #expect(naive.sends > 144 * perBurst / 3 && naive.reads > 0 && naive.failedLogins > 0)
        let view = state.dashboardView(minutes: 1440, now: (firstMinute + 1440) * 60_000_000)
        let input = directory.appending("reply.json")
        try JSONValue.object(BrokerInterface.dashboard(view)).jsonText.write(toFile: input, atomically: true, encoding: .utf8)

        let page = directory.appending("day.html")
        let (status, _, err) = try await ChildProcess.run(Products.qsm, ["dashboard", "--html", page, "--window", "24h", "--input", input])
        #expect(status == 0, "\(err)")
        let report = try await DashboardChecks.json(DashboardChecks.python, DashboardChecks.pageScript, [page])
        Self.checkStructure(report)
        #expect((report["bytes"] as? Int ?? .max) < 400_000, "the page grows with the traffic")
        let counters = report["counters"] as? [String: Int] ?? [:]
        #expect(counters["encryptions"] == naive.sends, "\(counters)")
        #expect(counters["decryptions"] == naive.reads, "\(counters)")
        #expect(counters["loginsFailed"] == naive.failedLogins, "\(counters)")
        #expect(counters["alerts"] == naive.alerts, "\(counters)")
        // 1,440 minutes in bars of 10: at most 144 bars a chart, whatever the traffic.
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("Messages sent per 10 minutes"))
        for svg in report["svgs"] as? [[String: Any]] ?? [] {
            #expect((svg["rects"] as? Int ?? .max) <= 150, "\(svg["rects"] ?? "?") rectangles in one chart")
        }
        // The sends chart's axis ends at the round number (1, 2 or 5 × 10^k) above the busiest 10 minutes.
        var buckets: [Int64: Int64] = [:]
        for (minute, sends) in sendsByMinute { buckets[minute - minute % 10, default: 0] += sends }
        let busiest = buckets.values.max() ?? 0
        let top = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000].map(Int64.init).first { $0 >= busiest } ?? 0
        let label = top.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
        let sendsTexts = (report["svgs"] as? [[String: Any]])?.first?["texts"] as? [String] ?? []
        #expect(sendsTexts.contains(label), "the busiest 10 minutes hold \(busiest) sends; no axis label \(label) in \(sendsTexts)")
    }

    @Test func badInputIsRefusedAndNothingIsWritten() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-dashboard")
        chmod(directory.path, 0o755)
        let environment = ["PATH": "/usr/bin:/bin", "QSM_HOME": directory.appending("home"), "QSM_SOCKET": directory.appending("none.sock")]
        // A directory that does not exist.
        var (status, _, err) = try await ChildProcess.run(
            Products.qsm, ["dashboard", "--html", directory.appending("missing/d.html")], environment: environment)
        #expect(status != 0 && err.contains("does not exist"), "\(err)")
        #expect(!FileManager.default.fileExists(atPath: directory.appending("missing")))
        // A window that does not parse, or is longer than the 24 hours kept.
        for window in ["3d", "0h", "25h", "1.5h", "soon"] {
            (status, _, err) = try await ChildProcess.run(
                Products.qsm, ["dashboard", "--html", directory.appending("d.html"), "--window", window], environment: environment)
            #expect(status != 0 && err.contains("--window"), "\(window): \(err)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("d.html")))
        // A directory nobody may write in (checked as nobody: root may write anywhere).
        let locked = directory.appending("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        let copy = directory.appending("qsm")
        try FileManager.default.copyItem(atPath: Products.qsm, toPath: copy)
        chmod(copy, 0o755)
        (status, _, err) = try await ChildProcess.run("/usr/bin/setpriv", [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", copy, "dashboard", "--html", locked + "/d.html",
        ], environment: environment)
        #expect(status != 0 && err.contains("cannot write in"), "\(err)")
        #expect((try FileManager.default.contentsOfDirectory(atPath: locked)).isEmpty)
    }
}
