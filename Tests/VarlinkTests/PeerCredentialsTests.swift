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

    /// A client run as nobody (setpriv needs root, which tools/test has in CI).
    @Test(.enabled(if: getuid() == 0, "setpriv needs root"))
    func reportsNobody() async throws {
        try await withTestServer(configure: { $0.socketMode = 0o666 }) { path, _ in
            let directory = (path as NSString).deletingLastPathComponent
            #expect(chmod(directory, 0o755) == 0)
            let script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                s.sendall(b'{"method":"org.example.test.Whoami"}\\0')
                data = b''
                while not data.endswith(b'\\0'):
                    chunk = s.recv(4096)
                    if not chunk: break
                    data += chunk
                print(data.rstrip(b'\\0').decode())
                """
            let result = try await runProcess(
                "/usr/bin/setpriv",
                ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
                 "/usr/bin/python3", "-c", script, path])
            #expect(result.status == 0, "\(result.output)")
            let reply = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            let parameters = reply?["parameters"] as? [String: Any]
            #expect(parameters?["uid"] as? Int == 65534, "\(result.output)")
            #expect(parameters?["gid"] as? Int == 65534, "\(result.output)")
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
