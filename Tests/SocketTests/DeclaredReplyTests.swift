import Foundation
import QSMTesting
import Testing

/// qsm reads qsmd's replies as the typed client declares them (Schemas/io.qsm.Broker.varlink): a reply
/// that is not what its method declares is said to be so, in one line with a failing exit status, where a
/// client reading a dictionary shows what it could pick out of it ("no messages") and exits 0.
@Suite("Replies are read as the interface declares them")
struct DeclaredReplyTests {
    @Test func aReplyNotAsDeclaredIsAnErrorNotAnEmptyListing() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-declared")
        let socket = directory.appending("qsmd.sock")
        // Inbox's messages must be a list of messages; this server sends a string there.
        let server = try await OneReplyServer(
            socket: socket, in: directory, reply: #"{"parameters": {"messages": "none", "total": 0, "more": 0}}"#)
        defer { server.stop() }
        let home = directory.appending("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let session = home + "/session.json"
        try Data(#"{"token": "a-token", "username": "alice", "expiresAt": 0}"#.utf8).write(to: URL(fileURLWithPath: session))
        chmod(session, 0o600)

        let (status, output, error) = try await ChildProcess.run(
            Products.qsm, ["inbox", "--socket", socket],
            environment: ["PATH": "/usr/bin:/bin", "HOME": home, "QSM_HOME": home])
        #expect(status == 1, "qsm inbox on a reply not as declared: \(output) \(error)")
        #expect(output.isEmpty, "nothing is listed: \(output)")
        let line = error.trimmingCharacters(in: .newlines)
        #expect(!line.contains("\n"), "one line: \(line)")
        #expect(line.hasPrefix("qsm: qsmd sent a reply that is not what the method declares: parameters.messages: expected"), "\(line)")
    }
}

/// A stand-in for qsmd on `socket` (Debian's python3, as the caller's uid) that answers every call with
/// `reply`.
private final class OneReplyServer: Sendable {
    let process: ChildProcess

    init(socket: String, in directory: TemporaryDirectory, reply: String) async throws {
        let script = directory.appending("one-reply.py")
        try Data(Self.source.utf8).write(to: URL(fileURLWithPath: script))
        let ready = script + ".ready"
        process = try ChildProcess("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", "/usr/bin/python3", script, socket, reply, ready])
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: ready) {
            guard ContinuousClock.now < deadline else { throw DaemonError("the stand-in server did not start: \(process.standardError)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() { process.kill(SIGKILL) }

    private static let source = """
        import socket, sys
        path, reply, ready = sys.argv[1], sys.argv[2].encode() + b"\\0", sys.argv[3]
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(8)
        open(ready, "w").close()
        while True:
            connection, _ = server.accept()
            connection.settimeout(5)
            data = b""
            try:
                while True:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    while b"\\0" in data:
                        _, data = data.split(b"\\0", 1)
                        connection.sendall(reply)
            except OSError:
                pass
            connection.close()
        """
}
