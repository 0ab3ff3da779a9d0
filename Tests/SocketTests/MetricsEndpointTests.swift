import Foundation
import QSMTesting
import Testing

@Suite("qsmd --metrics-listen: Prometheus text that prometheus-client parses, equal to the Dashboard")
struct MetricsEndpointTests {
    @Test func theScrapeParsesAndItsCountersEqualTheDashboards() async throws {
        let port = try DashboardChecks.freePort()
        let daemon = try await Daemon(arguments: ["--metrics-listen", "127.0.0.1:\(port)"])
        let (_, bob) = try await dashboardWorkload(daemon)
        let reply = try await dashboardReply(daemon, home: bob)
        let scrape = try await DashboardChecks.json(
            DashboardChecks.venvPython, DashboardChecks.metricsScript, ["http://127.0.0.1:\(port)/metrics"])
        #expect(scrape["status"] as? Int == 200)
        #expect((scrape["contentType"] as? String ?? "").hasPrefix("text/plain; version=0.0.4"))
        let samples = scrape["samples"] as? [[String: Any]] ?? []
        func value(_ name: String, _ labels: [String: String] = [:]) -> Int {
            samples.filter { ($0["name"] as? String) == name && ($0["labels"] as? [String: String] ?? [:]) == labels }
                .compactMap { ($0["value"] as? NSNumber)?.intValue }.first ?? -1
        }
        func sum(_ name: String, where match: ([String: String]) -> Bool = { _ in true }) -> Int {
            samples.filter { ($0["name"] as? String) == name && match($0["labels"] as? [String: String] ?? [:]) }
                .compactMap { ($0["value"] as? NSNumber)?.intValue }.reduce(0, +)
        }
        let counters = try #require(reply["counters"] as? [String: Any])
        func dashboard(_ key: String) -> Int { (counters[key] as? NSNumber)?.intValue ?? -2 }
        func dashboard(_ map: String, _ key: String) -> Int { ((counters[map] as? [String: Any])?[key] as? NSNumber)?.intValue ?? 0 }

        // prometheus-client names a counter's samples NAME_total.
        #expect(value("qsm_registrations_total") == dashboard("registrations"))
        #expect(value("qsm_logins_total", ["outcome": "succeeded"]) == dashboard("loginsSucceeded"))
        #expect(value("qsm_logins_total", ["outcome": "failed"]) == dashboard("loginsFailed"))
        #expect(value("qsm_key_exchanges_total", ["outcome": "completed"]) == dashboard("keyExchanges"))
        #expect(value("qsm_key_exchanges_total", ["outcome": "aborted"]) == dashboard("keyExchangesAborted"))
        #expect(value("qsm_key_bits_made_total") == dashboard("keyBitsMade"))
        #expect(value("qsm_key_bits_used_total") == dashboard("keyBitsUsed"))
        for mode in ["otp", "aes", "pqc"] {
            #expect(value("qsm_messages_encrypted_total", ["mode": mode]) == dashboard("encryptionsByMode", mode), "\(mode)")
            #expect(max(value("qsm_messages_decrypted_total", ["mode": mode]), 0) == dashboard("decryptionsByMode", mode), "\(mode)")
        }
        #expect(sum("qsm_messages_encrypted_total") == dashboard("encryptions"))
        #expect(sum("qsm_alerts_total") == dashboard("alerts"))
        #expect(sum("qsm_alerts_total") { $0["severity"] == "high" } == dashboard("alertsBySeverity", "high"))
        #expect(value("qsm_alerts_total", ["rule": "brute_force", "severity": "high"]) == 1)
        // The workload's own figures, so that two zeros cannot agree.
        #expect(dashboard("encryptions") == 4 && dashboard("loginsFailed") == 6 && dashboard("keyExchangesAborted") == 1)

        // Commands by method and outcome, with their durations; group commits with their sizes and latency.
        #expect(value("qsm_commands_total", ["method": "io.qsm.Broker.Send", "outcome": "ok"]) == 4)
        #expect(value("qsm_commands_total", ["method": "io.qsm.Broker.EstablishKey", "outcome": "EavesdroppingDetected"]) == 1)
        #expect(value("qsm_commands_total", ["method": "io.qsm.Broker.Decrypt", "outcome": "AccessDenied"]) == 1)
        #expect(value("qsm_commands_total", ["method": "io.qsm.Broker.Login", "outcome": "AccountLocked"]) == 1)
        #expect(value("qsm_command_duration_seconds_count", ["method": "io.qsm.Broker.Send"]) == 4)
        let types = scrape["types"] as? [String: String] ?? [:]
        #expect(types["qsm_command_duration_seconds"] == "histogram" && types["qsm_commit_duration_seconds"] == "histogram")
        #expect(types["qsm_commit_batch_commands"] == "histogram" && types["qsm_commands"] == "counter")
        let commits = value("qsm_commit_duration_seconds_count")
        #expect(commits > 10 && value("qsm_commit_batch_commands_count") == commits)
        #expect(value("qsm_commit_batch_commands_bucket", ["le": "+Inf"]) == commits)
        #expect(try await daemon.stop() == 0)
    }

    @Test func aPortInUseStopsTheStartAndARemoteAddressNeedsConsent() async throws {
        let port = try DashboardChecks.freePort()
        let holder = try DashboardChecks.occupy(port: port)
        defer { close(holder) }
        let directory = try TemporaryDirectory(prefix: "qsm-metrics")
        let socket = directory.appending("qsm.sock")
        var (status, _, err) = try await ChildProcess.run(Products.qsmd, [
            "--data", directory.appending("data"), "--socket", socket, "--metrics-listen", "127.0.0.1:\(port)",
        ])
        #expect(status == 69 && err.contains("Cannot serve metrics") && err.contains("in use"), "\(status) \(err)")
        #expect(!FileManager.default.fileExists(atPath: socket), "the broker socket was served anyway")

        for (address, reason) in [("192.0.2.1:\(port)", "not a loopback"), ("[::]:\(port)", "not a loopback"),
                                  ("127.0.0.1:0", "port"), ("127.0.0.1", "HOST:PORT"), ("example.org:9000", "IP address")] {
            (status, _, err) = try await ChildProcess.run(Products.qsmd, [
                "--data", directory.appending("data"), "--socket", socket, "--metrics-listen", address,
            ])
            #expect(status == 64 && err.contains(reason), "\(address): \(status) \(err)")
        }
        // With consent, a wildcard address is served.
        let free = try DashboardChecks.freePort()
        let daemon = try await Daemon(arguments: ["--metrics-listen", "0.0.0.0:\(free)", "--metrics-allow-remote"])
        let scrape = try await DashboardChecks.json(
            DashboardChecks.venvPython, DashboardChecks.metricsScript, ["http://127.0.0.1:\(free)/metrics"])
        #expect(scrape["status"] as? Int == 200)
        #expect(try await daemon.stop() == 0)
    }
}
