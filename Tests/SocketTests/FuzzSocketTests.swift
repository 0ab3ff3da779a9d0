import Foundation
import QSMTesting
import Testing

/// tools/fuzz-socket, bounded: hostile frames from many connections against a running qsmd, which must stay
/// up, answer, serve valid calls and keep a log that verifies. As root, each burst also floods qsmd from
/// uid 65534 (tools/flood-socket), which may hold no more than its 64 connections.
@Suite struct FuzzSocketTests {
    @Test(.timeLimit(.minutes(2)))
    func qsmdSurvivesBurstsOfHostileFrames() async throws {
        let off: [String: Any] = ["count": 0, "windowSeconds": 1]
        let daemon = try await Daemon(settings: [
            "allowCheapPasswordHashingForTests": true, "passwordMemoryKiB": 8, "passwordIterations": 1,
            // uid 65534's flood (run by the fuzzer as root) must reach the socket.
            "socketMode": "0666",
            "rules": ["bruteForce": off, "passwordSpraying": off, "failureSurge": off, "unauthorizedAccess": off,
                      "sendFlood": off, "staleTokens": off, "keyExchangeAborts": off],
        ])
        let python = ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3"
        let (status, lines, stderr) = try await ChildProcess.run(
            python,
            [Products.packageRoot + "/tools/fuzz-socket", "3", "--socket", daemon.socket, "--data", daemon.data,
             "--qsm", Products.qsm, "--connections", "8", "--frames", "20", "--seed", "20261128"],
            environment: ["PATH": "/usr/bin:/bin"])
        let last = lines.last ?? ""
        if getuid() != 0 { print("fuzz-socket: SKIPPED the flood from uid 65534 (setpriv needs root)") }
        #expect(status == 0, "fuzz-socket failed: \(stderr.suffix(3000))")
        #expect(last.hasPrefix("fuzz-socket: bursts 3 frames ") && last.hasSuffix(" failures 0"), "last line: \(last)")
        let frames = Int(last.split(separator: " ").dropFirst(4).first ?? "") ?? 0
        #expect(frames >= 3 * 8 * 20, "only \(frames) frames sent")
        // The daemon is the same process, still answering, and stops cleanly.
        #expect(kill(daemon.process.pid, 0) == 0)
        #expect(Daemon.answers(daemon.socket))
        #expect(try await daemon.stop() == 0)
    }
}
