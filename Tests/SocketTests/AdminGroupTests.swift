import Foundation
import QSMTesting
import Testing

/// qsmd --admin-group: a member of the group may call io.qsm.Admin (by primary gid, or listed in the
/// group's member list); anyone else is refused. Acting as other uids and making a group needs root; as
/// any other user the tests print a SKIPPED line.
@Suite("qsmd --admin-group", .serialized)
struct AdminGroupTests {
    @Test func membersOfTheGroupMayCallAdminAndOthersMayNot() async throws {
        guard getuid() == 0 else {
            print("admin-group: SKIPPED (groupadd, useradd and setpriv need root; running as uid \(getuid()))")
            return
        }
        let suffix = String(getpid())
        let group = "qsmt-adm-" + suffix
        let member = "qsmt-mem-" + suffix
        _ = try await ChildProcess.run("/usr/sbin/userdel", [member])
        _ = try await ChildProcess.run("/usr/sbin/groupdel", [group])
        var (status, _, err) = try await ChildProcess.run("/usr/sbin/groupadd", [group])
        try #require(status == 0, "groupadd: \(err)")
        // A user whose primary group is nogroup and who is listed as a member of the admin group.
        (status, _, err) = try await ChildProcess.run(
            "/usr/sbin/useradd", ["-M", "-N", "-g", "nogroup", "-G", group, "-s", "/usr/sbin/nologin", member])
        #expect(status == 0, "useradd: \(err)")
        do {
            let daemon = try await Daemon(settings: cheapSettings(["socketMode": "0666"]), arguments: ["--admin-group", group])
            let script = daemon.directory.appending("admin_call.py")
            try Self.client.write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o644)
            func stats(_ identity: [String]) async throws -> String {
                let (status, lines, stderr) = try await ChildProcess.run(
                    "/usr/bin/setpriv",
                    identity + ["--clear-groups", "/usr/bin/env", "-i", "/usr/bin/python3", script, daemon.socket])
                #expect(status == 0, "\(identity): \(stderr)")
                return lines.last ?? ""
            }
            // The group as primary gid; listed in the group (primary gid nogroup); neither.
            #expect(try await stats(["--reuid=nobody", "--regid=\(group)"]) == "ok")
            #expect(try await stats(["--reuid=\(member)", "--regid=nogroup"]) == "ok")
            #expect(try await stats(["--reuid=nobody", "--regid=nogroup"]) == "org.varlink.service.PermissionDenied")
            #expect(try await daemon.stop() == 0)

            // Without the flag the member is no administrator.
            let plain = try await Daemon(settings: cheapSettings(["socketMode": "0666"]))
            let plainScript = plain.directory.appending("admin_call.py")
            try Self.client.write(toFile: plainScript, atomically: true, encoding: .utf8)
            chmod(plainScript, 0o644)
            let (_, lines, _) = try await ChildProcess.run(
                "/usr/bin/setpriv",
                ["--reuid=\(member)", "--regid=nogroup", "--clear-groups", "/usr/bin/env", "-i", "/usr/bin/python3",
                 plainScript, plain.socket])
            #expect(lines.last == "org.varlink.service.PermissionDenied")
            #expect(try await plain.stop() == 0)
        } catch {
            Issue.record(error)
        }
        _ = try await ChildProcess.run("/usr/sbin/userdel", [member])
        _ = try await ChildProcess.run("/usr/sbin/groupdel", [group])
    }

    @Test func aGroupThatDoesNotExistStopsTheStart() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-admin-group")
        let (status, _, err) = try await ChildProcess.run(Products.qsmd, [
            "--data", directory.appending("data"), "--socket", directory.appending("qsm.sock"),
            "--admin-group", "qsmt-no-such-group",
        ])
        #expect(status == 78 && err.contains("no group named qsmt-no-such-group"), "\(status) \(err)")
    }

    /// Calls io.qsm.Admin.Stats on argv[1]; prints "ok" or the error's name.
    private static let client = #"""
        import json, socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        s.sendall(json.dumps({"method": "io.qsm.Admin.Stats", "parameters": {}}).encode() + b"\0")
        data = b""
        while not data.endswith(b"\0"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        reply = json.loads(data.rstrip(b"\0"))
        print(reply.get("error") or "ok")
        """#
}
