import Foundation
import QSMTesting
import Testing

/// Housekeeping of issue 18 item 20: the session lifetime the docs give is the one qsm gets; a start on
/// a busy socket leaves nothing behind; the second-qsmd error names tools that can read a running log;
/// a data directory or a session file open to other users is warned about, with the chmod that fixes it.
@Suite("qsmd and qsm: housekeeping")
struct HousekeepingTests {
    /// A start on a socket another qsmd serves exits 69 and creates no data directory (it created the
    /// directory, a log, a master key and a signing key before finding the socket busy).
    @Test func aStartOnABusySocketCreatesNothing() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let scratch = try TemporaryDirectory(prefix: "qsm-busy")
        let data = scratch.appending("data")
        let (status, _, stderr) = try await ChildProcess.run(
            "/usr/bin/timeout", ["30", Products.qsmd, "--data", data, "--socket", daemon.socket])
        #expect(status == 69, "\(stderr)")
        #expect(stderr.contains("another process is serving on \(daemon.socket)"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: data), "the failed start created \(data)")
        #expect(try await daemon.stop() == 0)
    }

    /// A second qsmd on the same data directory is told what can read the log while the first runs: the
    /// offline tools, not a read-only open, which qsmd cannot do.
    @Test func theSecondQsmdNamesTheOfflineTools() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let (status, _, stderr) = try await ChildProcess.run(
            "/usr/bin/timeout", ["30", Products.qsmd, "--data", daemon.data, "--socket", daemon.directory.appending("second.sock")])
        #expect(status != 0 && status != 124, "\(stderr)")
        #expect(stderr.contains("already open for writing") && stderr.contains("qsm log, qsm audit or qsm forensics"), "\(stderr)")
        #expect(!stderr.contains("read-only"), "\(stderr)")
        #expect(try await daemon.stop() == 0)
    }

    /// A 0755 data directory and a 0644 session file each get one warning with the chmod that fixes it.
    @Test func filesOpenToOthersAreWarnedAbout() async throws {
        let first = try await Daemon(settings: cheapSettings())
        let home = first.directory.appending("alice")
        #expect(try await first.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await first.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let (quiet, _, quietError) = try await first.qsm(["inbox"], home: home)
        #expect(quiet == 0 && !quietError.contains("warning"), "\(quietError)")
        chmod(home + "/session.json", 0o644)
        let (status, _, stderr) = try await first.qsm(["inbox"], home: home)
        #expect(status == 0 && stderr.contains("warning") && stderr.contains("chmod 600 \(home)/session.json"), "\(stderr)")
        #expect(!first.process.standardError.contains("chmod 700"), "a 0700 directory: no warning")
        #expect(try await first.stop() == 0)

        chmod(first.data, 0o755)
        let second = try await Daemon(directory: first.directory, settings: cheapSettings())
        #expect(second.process.standardError.contains("chmod 700 \(second.data)"), "\(second.process.standardError)")
        #expect(try await second.stop() == 0)
    }

    /// The lifetime docs/crypto.md gives is the one a login gets (it said 12 h; sessions last 8 h).
    @Test func theDocumentedSessionLifetimeIsTheRealOne() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let before = Date().timeIntervalSince1970
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        let session = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: home + "/session.json"))) as? [String: Any])
        let expiresAt = try #require((session["expiresAt"] as? NSNumber)?.doubleValue) / 1_000_000
        let hours = Int(((expiresAt - before) / 3600).rounded())
        let crypto = try String(contentsOfFile: Products.packageRoot + "/docs/crypto.md", encoding: .utf8)
        let qsmd = try String(contentsOfFile: Products.packageRoot + "/docs/qsmd.md", encoding: .utf8)
        #expect(crypto.contains("default lifetime \(hours) h"), "docs/crypto.md does not say \(hours) h")
        #expect(qsmd.contains("| `sessionLifetimeSeconds` | \(hours * 3600) | sessions end \(hours) hours after login |"))
        #expect(try await daemon.stop() == 0)
    }
}
