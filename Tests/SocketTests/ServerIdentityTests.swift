import Foundation
import QSMTesting
import Testing

/// qsm sends a password or token only to qsmd (security review, issue 16 item 8: `cd /dev/shm; qsm login
/// alice` handed the password to a socket uid 65534 had planted at /dev/shm/var/qsm/qsm.sock). The planted
/// server here is a Python script that records whatever reaches it and answers like qsmd.
@Suite("The client checks who serves the socket")
struct ServerIdentityTests {
    /// A socket served by uid 65534 gets nothing: qsm reads the server's uid (SO_PEERCRED) and refuses
    /// with one line; naming that uid as qsmd's (QSM_SERVER_UID, --server-uid) lets the call through.
    @Test func aSocketServedByAnotherUserGetsNoPassword() async throws {
        guard getuid() == 0 else {
            print("ServerIdentityTests: SKIPPED aSocketServedByAnotherUserGetsNoPassword: serving a socket as uid 65534 needs root")
            return
        }
        let directory = try TemporaryDirectory(prefix: "qsm-planted")
        chmod(directory.path, 0o1777)
        let socket = directory.appending("planted.sock")
        let server = try await PlantedServer(socket: socket, in: directory, asNobody: true)
        defer { server.stop() }
        let refused = try await login(arguments: ["--socket", socket], cwd: directory.path, home: directory.path)
        #expect(refused.status == 69, "qsm login: \(refused.stderr)")
        #expect(refused.stderr.contains("served by uid 65534") && refused.stderr.contains("nothing was sent"), "\(refused.stderr)")
        #expect(!server.received.contains("secret-password"), "the planted server got: \(server.received)")
        // The operator runs qsmd as that uid: saying so lets the call through.
        let named = try await login(
            arguments: ["--socket", socket], cwd: directory.path, home: directory.path, extra: ["QSM_SERVER_UID": "65534"])
        #expect(named.status == 0, "QSM_SERVER_UID=65534: \(named.stderr)")
        let option = try await login(
            arguments: ["--socket", socket, "--server-uid", "nobody"], cwd: directory.path, home: directory.path)
        #expect(option.status == 0, "--server-uid nobody: \(option.stderr)")
        #expect(server.received.components(separatedBy: "secret-password").count == 3, "\(server.received)")
    }

    /// Without --socket or QSM_SOCKET the default var/qsm/qsm.sock is relative: in a directory every user
    /// can write (as /dev/shm) qsm refuses before connecting, naming the directory and the fix. From a
    /// private directory (a checkout) the default still works.
    @Test func theDefaultSocketIsNotResolvedInADirectoryOthersCanWrite() async throws {
        let shared = try TemporaryDirectory(prefix: "qsm-shm")
        chmod(shared.path, 0o1777)
        let attacker: uid_t = getuid() == 0 ? 65534 : getuid()
        try FileManager.default.createDirectory(atPath: shared.appending("var/qsm"), withIntermediateDirectories: true)
        for path in [shared.appending("var"), shared.appending("var/qsm")] {
            chmod(path, 0o755)
            chown(path, attacker, attacker)
        }
        let planted = try await PlantedServer(
            socket: shared.appending("var/qsm/qsm.sock"), in: shared, asNobody: getuid() == 0)
        defer { planted.stop() }
        let refused = try await login(arguments: [], cwd: shared.path, home: shared.path)
        #expect(refused.status == 69, "qsm login: \(refused.stderr)")
        #expect(refused.stderr.contains("refusing the default socket") && refused.stderr.contains(shared.path)
            && refused.stderr.contains("--socket"), "\(refused.stderr)")
        #expect(planted.received.isEmpty, "the planted server got: \(planted.received)")

        let checkout = try TemporaryDirectory(prefix: "qsm-checkout")
        chmod(checkout.path, 0o755)
        try FileManager.default.createDirectory(atPath: checkout.appending("var/qsm"), withIntermediateDirectories: true)
        let own = try await PlantedServer(socket: checkout.appending("var/qsm/qsm.sock"), in: checkout, asNobody: false)
        defer { own.stop() }
        let accepted = try await login(arguments: [], cwd: checkout.path, home: checkout.path)
        #expect(accepted.status == 0, "from a private directory: \(accepted.stderr)")
        #expect(own.received.contains("secret-password"))
    }

    /// `qsm login alice --password-stdin ARGUMENTS` in `cwd`, without QSM_SOCKET.
    private func login(arguments: [String], cwd: String, home: String, extra: [String: String] = [:]) async throws
        -> (status: Int32, stderr: String)
    {
        let command = (["cd", cwd, "&&", "printf", "'secret-password\\n'", "|", Products.qsm, "login", "alice", "--password-stdin"]
            + arguments.map { "'\($0)'" }).joined(separator: " ")
        var environment = ["PATH": "/usr/bin:/bin", "HOME": home, "QSM_HOME": home + "/qsm-home"]
        environment.merge(extra) { $1 }
        let (status, _, stderr) = try await ChildProcess.run("/bin/sh", ["-c", command], environment: environment)
        return (status, stderr)
    }
}

/// A stand-in for qsmd on `socket`: records every call it receives in a file and answers Login.
private final class PlantedServer: Sendable {
    let process: ChildProcess
    let log: String

    init(socket: String, in directory: TemporaryDirectory, asNobody: Bool) async throws {
        let script = directory.appending("planted-\(UUID().uuidString).py")
        log = script + ".log"
        try Data(Self.source.utf8).write(to: URL(fileURLWithPath: script))
        chmod(script, 0o644)
        let python = ["env", "-i", "PATH=/usr/bin:/bin", "/usr/bin/python3", script, socket, log]
        process = asNobody
            ? try ChildProcess("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups"] + python)
            : try ChildProcess("/usr/bin/env", Array(python.dropFirst()))
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: log + ".ready") {
            guard ContinuousClock.now < deadline else { throw DaemonError("the planted server did not start: \(process.standardError)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Everything it received so far.
    var received: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func stop() { process.kill(SIGKILL) }

    private static let source = """
        import os, socket, sys
        path, log = sys.argv[1], sys.argv[2]
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(8)
        os.chmod(path, 0o777)
        open(log, "ab").close()
        open(log + ".ready", "w").close()
        while True:
            connection, _ = server.accept()
            connection.settimeout(5)
            data = b""
            try:
                while not data.endswith(b"\\0"):
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            with open(log, "ab") as f:
                f.write(data)
            reply = b'{"parameters": {"session": {"token": "planted", "username": "alice", "expiresAt": 0}}}\\0'
            try:
                connection.sendall(reply)
            except OSError:
                pass
            connection.close()
        """
}
