import Foundation
import QSMClient
#if canImport(Glibc)
import Glibc
#endif

/// The client's side of the socket's trust: a password or token goes only to qsmd. A socket path can be
/// planted by whoever can write its directory (security review, issue 16 item 8: `cd /dev/shm; qsm login
/// alice` handed the password to a socket uid 65534 had put at /dev/shm/var/qsm/qsm.sock), so the client
/// checks who serves the socket (SO_PEERCRED, which the server cannot forge) and refuses to resolve its
/// relative default in a directory others can write.
enum ServerCheck {
    /// Where tools/run puts the socket, relative to the working directory (the checkout).
    static let defaultSocket = "var/qsm/qsm.sock"

    /// Where an installed qsmd serves (the systemd socket unit's path): the default wherever the working
    /// directory is, when it exists.
    static let systemSocket = "/run/qsm/qsm.sock"

    /// True when `systemSocket` is a socket (lstat: a link there is not followed).
    static var systemSocketExists: Bool {
        var status = stat()
        return lstat(systemSocket, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK
    }

    /// The uid `value` names (a number or a user name), or nil for none.
    static func trustedServerUID(_ value: String?) throws -> uid_t? {
        guard let value, !value.isEmpty else { return nil }
        if let uid = uid_t(value) { return uid }
        guard let entry = getpwnam(value) else {
            throw ConnectionError(description: "--server-uid / QSM_SERVER_UID: no user named \(value)")
        }
        return entry.pointee.pw_uid
    }

    /// Refuses a server other than root, the caller or `trusted`, before anything is sent.
    static func checkServer(of connection: QSMConnection, socket: String, trusted: uid_t?) async throws {
        let server: ServerCredentials
        do { server = try await connection.serverCredentials() } catch { throw ConnectionError(description: "\(error)") }
        guard server.uid == 0 || server.uid == getuid() || server.uid == trusted else {
            throw ConnectionError(description: """
                refusing \(socket): it is served by uid \(server.uid) (pid \(server.pid)), not root, you or the \
                user qsmd runs as; nothing was sent. If qsmd runs as that user, say so with --server-uid \
                \(server.uid) or QSM_SERVER_UID
                """)
        }
    }

    /// Refuses the default socket when the working directory, a directory between it and the socket, or a
    /// directory above it (unless sticky, as /tmp is) can be written by another user or is owned by one.
    static func checkDefaultSocketDirectories() throws {
        let cwd = FileManager.default.currentDirectoryPath
        var below = [cwd]
        var path = cwd
        for component in defaultSocket.split(separator: "/").dropLast() {
            path += "/" + component
            below.append(path)
        }
        for directory in below {
            if let reason = unsafe(directory, stickyIsSafe: false) { throw refusal(directory, reason) }
        }
        var above = (cwd as NSString).deletingLastPathComponent
        while true {
            if let reason = unsafe(above, stickyIsSafe: true) { throw refusal(above, reason) }
            guard above != "/" else { break }
            above = (above as NSString).deletingLastPathComponent
        }
    }

    private static func refusal(_ directory: String, _ reason: String) -> ConnectionError {
        ConnectionError(description: """
            refusing the default socket \(defaultSocket) here: \(directory) \(reason), who could put a socket \
            there; run qsm from your checkout, or name the socket with --socket PATH or QSM_SOCKET
            """)
    }

    /// Why another user could replace what lies in `directory`, or nil. A missing path is no risk here
    /// (connecting fails); a link is judged by its own owner, since whoever owns it can point it anywhere.
    private static func unsafe(_ directory: String, stickyIsSafe: Bool) -> String? {
        var info = stat()
        guard lstat(directory, &info) == 0 else { return nil }
        let me = getuid()
        if info.st_uid != 0 && info.st_uid != me { return "belongs to uid \(info.st_uid)" }
        if (info.st_mode & S_IFMT) == S_IFLNK { return nil }
        if stickyIsSafe && info.st_mode & S_ISVTX != 0 { return nil }
        if info.st_mode & S_IWOTH != 0 { return "is writable by every user" }
        if info.st_mode & S_IWGRP != 0 && info.st_gid != getgid() { return "is writable by group \(info.st_gid)" }
        return nil
    }
}
