import Foundation
import QSMClient
import QSMTesting
import Testing

/// The text dashboard (issue 18 item 17): no screen escapes into a file, the terminal's width, bars that
/// keep small counters visible, colour on a terminal unless NO_COLOR.
@Suite("qsm dashboard: text")
struct DashboardTextTests {
    /// ANSI escape sequences (colour, clearing) removed.
    private func plain(_ text: String) -> String { text.replacing(/\x1B\[[0-9;]*[A-Za-z]/, with: "") }

    @Test func watchIntoAFileWritesNoEscapes() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let file = daemon.directory.appending("watch.txt")
        let watcher = try ChildProcess(
            "/bin/sh", ["-c", "exec '\(Products.qsm)' dashboard --watch > '\(file)'"],
            environment: ["PATH": "/usr/bin:/bin", "QSM_SOCKET": daemon.socket, "QSM_HOME": home, "HOME": home])
        func states() -> Int { ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").components(separatedBy: "qsm dashboard").count - 1 }
        func waitFor(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while states() < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }
        try await waitFor(1)
        _ = try await registerAndLogin("bob", socket: daemon.socket)  // a change: a second state follows the first
        try await waitFor(2)
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        watcher.kill(SIGTERM)
        _ = try await watcher.wait()
        #expect(text.components(separatedBy: "qsm dashboard").count > 2, "\(text)")
        #expect(!text.contains("\u{1B}"), "escape sequences in a file: \(text.debugDescription.prefix(200))")
        #expect(try await daemon.stop() == 0)
    }

    /// On a 50-column terminal every line fits; a counter of 2 beside one of 100 still has a bar (the
    /// old linear bars gave it none); colour unless NO_COLOR is set.
    @Test func onATerminalItFitsTheWidthKeepsSmallBarsAndHonoursNoColor() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        _ = try await client.registerAndLogin("bob")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let alice = try await client.login("alice")
        for index in 0..<100 { _ = try await client.call(BrokerAPI.Send(token: alice, to: "bob", body: "m\(index)", mode: "pqc")) }

        let environment = ["PATH": "/usr/bin:/bin", "QSM_SOCKET": daemon.socket, "QSM_HOME": home, "HOME": home, "TERM": "xterm"]
        for noColor in [false, true] {
            let terminal = try Terminal(
                Products.qsm, ["dashboard"], environment: noColor ? environment.merging(["NO_COLOR": "1"]) { $1 } : environment,
                columns: 50)
            #expect(try await terminal.wait() == 0, "\(terminal.output)")
            let output = terminal.output
            let lines = plain(output).components(separatedBy: "\r\n")
            for line in lines { #expect(line.count <= 50, "\(line.count) columns: \(line)") }
            #expect(output.contains("\u{1B}[") != noColor, "NO_COLOR \(noColor): \(output.debugDescription.prefix(300))")
            let encryptions = try #require(lines.first { $0.hasPrefix("encryptions") })
            let registrations = try #require(lines.first { $0.hasPrefix("registrations") })
            #expect(encryptions.contains("█") && registrations.contains("█"), "\(encryptions)\n\(registrations)")
            #expect(registrations.filter { $0 == "█" }.count < encryptions.filter { $0 == "█" }.count)
        }
        #expect(try await daemon.stop() == 0)
    }
}
