import Foundation
import QSMTesting
import Testing

@Suite("qsm demo against a fresh qsmd")
struct DemoTests {
    @Test func theDemoRunsTwiceAndLeavesAnAlertAndAnAbortedExchange() async throws {
        let daemon = try await Daemon()
        let home = daemon.directory.appending("home")
        var users: [String] = []
        for run in 1...2 {
            let page = daemon.directory.appending("demo-\(run).html")
            let (status, out, err) = try await daemon.qsm(["demo", "--socket", daemon.socket, "--html", page, "--qubits", "50000"], home: home)
            #expect(status == 0, "run \(run): \(err)\n\(out)")
            #expect(out.contains("aborted: QBER") && out.contains("account locked") && out.contains("alert: HIGH brute_force"), "\(out)")
            #expect(out.contains("otp: \"") && out.contains("aes: \"") && out.contains("pqc: \""), "every mode decrypts")
            #expect(out.contains("Alice reads what she sent, \"Tell no one.\"") && out.contains("tries to read it: refused"), "\(out)")
            #expect(FileManager.default.fileExists(atPath: page))
            if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("users this run: ") }) {
                users.append(String(line))
            }
        }
        #expect(Set(users).count == 2, "each run uses its own users: \(users)")
        // The demo kept its sessions to itself.
        #expect(!FileManager.default.fileExists(atPath: home + "/session.json"))

        let (alertsStatus, alerts, alertsError) = try await daemon.qsm(["alerts"], home: home)
        #expect(alertsStatus == 0, "\(alertsError)")
        #expect(alerts.contains("brute_force") && alerts.contains("qkd_abort"), "\(alerts)")
        let (eventsStatus, events, eventsError) = try await daemon.qsm(["admin", "events", "--limit", "1000"], home: home)
        #expect(eventsStatus == 0, "\(eventsError)")
        let aborted = events.split(separator: "\n").filter { $0.contains(" key_exchange_aborted ") }
        #expect(aborted.count == 2, "one aborted exchange per run: \(aborted.count)")
        #expect(try await daemon.stop() == 0)
    }
}
