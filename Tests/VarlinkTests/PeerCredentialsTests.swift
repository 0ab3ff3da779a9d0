import Foundation
import Glibc
import Testing
import Varlink

@Suite("Peer credentials")
struct PeerCredentialsTests {
    @Test func reportsTheTestProcess() async throws {
        try await withTestServer { path, _ in
            let reply = try await offload { try TestClient(path: path).call(#"{"method":"org.example.test.Whoami"}"#) }
            #expect(reply.parameters["uid"] as? Int == Int(getuid()))
            #expect(reply.parameters["gid"] as? Int == Int(getgid()))
            #expect(reply.parameters["pid"] as? Int == Int(getpid()))
        }
    }

    /// A client in another process is reported as that process, not as the server's: as nobody when the
    /// tests run as root (setpriv needs root, which tools/test has in CI), else as this user with the
    /// child's pid, so the credentials still come from the peer and the test still runs.
    @Test func reportsAnotherProcess() async throws {
        try await withTestServer(configure: { $0.socketMode = 0o666 }) { path, _ in
            let directory = (path as NSString).deletingLastPathComponent
            #expect(chmod(directory, 0o755) == 0)
            let script = """
                import os, socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                s.sendall(b'{"method":"org.example.test.Whoami"}\\0')
                data = b''
                while not data.endswith(b'\\0'):
                    chunk = s.recv(4096)
                    if not chunk: break
                    data += chunk
                print(os.getpid())
                print(data.rstrip(b'\\0').decode())
                """
            let client = ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "/usr/bin/python3", "-c", script, path]
            let asRoot = getuid() == 0
            if !asRoot {
                print("PeerCredentialsTests: skipped the nobody client (setpriv needs root); checking this user's")
            }
            let result = asRoot
                ? try await runProcess(
                    "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups"] + client)
                : try await runProcess(client[0], Array(client.dropFirst()))
            #expect(result.status == 0, "\(result.output)")
            let lines = result.output.split(separator: "\n").map(String.init)
            let childPID = try #require(lines.first.flatMap { Int($0) }, "\(result.output)")
            let reply = try JSONSerialization.jsonObject(with: Data((lines.dropFirst().first ?? "").utf8))
                as? [String: Any]
            let parameters = reply?["parameters"] as? [String: Any]
            #expect(childPID != Int(getpid()))
            #expect(parameters?["pid"] as? Int == childPID, "\(result.output)")
            #expect(parameters?["uid"] as? Int == (asRoot ? 65534 : Int(getuid())), "\(result.output)")
            #expect(parameters?["gid"] as? Int == (asRoot ? 65534 : Int(getgid())), "\(result.output)")
        }
    }

    @Test func authorizationHookSeesCredentials() async throws {
        try await withTestServer { path, _ in
            let reply = try await offload { try TestClient(path: path).call(#"{"method":"org.example.locked.Secret"}"#) }
            // The hook admits only uid 4,000,000,000, which no test runs as.
            #expect(reply.error == "org.varlink.service.PermissionDenied")
        }
    }
}
