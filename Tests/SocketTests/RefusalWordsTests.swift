import Foundation
import QSMTesting
import Testing

/// The daemon's refusals of bad input reach the user in the command line's words, with exit status 64 as
/// for the parser's own usage errors (issue 18 item 14: `invalid to: cannot be yourself`, status 1).
@Suite("qsm: the daemon's input refusals in the CLI's words")
struct RefusalWordsTests {
    @Test func inputRefusalsNameTheArgumentAndExit64() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        _ = try await registerAndLogin("bob", socket: daemon.socket)
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let cases: [([String], String)] = [
            (["send", "alice", "--mode", "aes", "--file", "/etc/hostname"], "qsm: the recipient: "),
            (["key", "establish", "bob", "--qubits", "5"], "qsm: --qubits: "),
            (["send", "bob", "--mode", "rot13", "--file", "/etc/hostname"], "qsm: --mode: "),
        ]
        for (arguments, prefix) in cases {
            let (status, _, stderr) = try await daemon.qsm(arguments, home: home)
            #expect(status == 64, "\(arguments): \(status) \(stderr)")
            #expect(stderr.hasPrefix(prefix) && !stderr.contains("invalid to") && !stderr.contains("Usage"), "\(arguments): \(stderr)")
        }
        // A refusal about the state of things, not the input, keeps status 1.
        let (status, _, stderr) = try await daemon.qsm(["read", String(repeating: "ab", count: 16)], home: home)
        #expect(status == 1 && stderr.contains("no message"), "\(stderr)")
        #expect(try await daemon.stop() == 0)
    }
}
