import Foundation
import QSMClient
import QSMTesting
import Testing

/// What `qsm send` reads and what it says when a message is too large (issue 18 items 2 and 16).
@Suite("qsm send: input and size limits")
struct SendInputTests {
    /// Runs qsm with standard input from `file`; (status, stdout, stderr).
    private func qsm(_ daemon: Daemon, _ arguments: [String], stdinFrom file: String, home: String) async throws -> (Int32, String, String) {
        let quoted = ([Products.qsm] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let (status, lines, stderr) = try await ChildProcess.run(
            "/bin/sh", ["-c", quoted + " < '\(file)'"],
            environment: ["PATH": "/usr/bin:/bin", "QSM_SOCKET": daemon.socket, "QSM_HOME": home, "HOME": daemon.directory.path])
        return (status, lines.joined(separator: "\n"), stderr)
    }

    /// 1, 2 and 10 MB and 17 MB, from standard input and from --file: always one line naming the limit and
    /// a failure status; the old client died of SIGPIPE (status 141, no output) from 2 MB on.
    @Test func aMessageOverTheLimitGetsOneLineNamingItNeverABrokenPipe() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        _ = try await registerAndLogin("bob", socket: daemon.socket)
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        for megabytes in [1, 2, 10, 17] {
            let file = daemon.directory.appending("big-\(megabytes)")
            try Data(repeating: 0x61, count: megabytes << 20).write(to: URL(fileURLWithPath: file))
            for (label, run) in [
                ("stdin", try await qsm(daemon, ["send", "bob"], stdinFrom: file, home: home)),
                ("--file", try await daemon.qsm(["send", "bob", "--file", file], home: home)),
            ] {
                let (status, output, stderr) = run
                let lines = stderr.split(separator: "\n")
                #expect(status != 0 && status != 141, "\(megabytes) MB \(label): status \(status)")
                #expect(output.isEmpty, "\(megabytes) MB \(label): \(output)")
                #expect(lines.count == 1 && lines[0].hasPrefix("qsm:"), "\(megabytes) MB \(label): \(stderr)")
                #expect(stderr.contains("limit") || stderr.contains("at most"), "\(megabytes) MB \(label): \(stderr)")
            }
        }
        #expect(try await daemon.stop() == 0)
    }

    /// `echo msg | qsm send` sends "msg": one final newline is the shell's; inner and further ones stay.
    @Test func oneFinalNewlineFromStandardInputIsDropped() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let bob = try await client.registerAndLogin("bob")
        let home = daemon.directory.appending("alice")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        for (text, expected) in [("hello\n", "hello"), ("two\nlines\n\n", "two\nlines\n"), ("no newline", "no newline")] {
            let file = daemon.directory.appending("message")
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let (status, sent, stderr) = try await qsm(daemon, ["send", "bob"], stdinFrom: file, home: home)
            #expect(status == 0, "\(stderr)")
            let id = try #require(sent.split(separator: " ").dropFirst().first.map(String.init))
            let opened = try await client.call(BrokerAPI.Decrypt(token: bob, messageId: id))
            #expect(opened.body == expected, "\(text.debugDescription) -> \(opened.body.debugDescription)")
        }
        #expect(try await daemon.stop() == 0)
    }
}
