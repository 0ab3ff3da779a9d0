/// Who serves a socket, as the kernel recorded it when the server called listen (SO_PEERCRED): a client
/// checks it before sending a password or token, since whoever can write a socket's directory can put a
/// socket there.
public struct ServerCredentials: Sendable, Equatable {
    /// The server's process id when it called listen.
    public let pid: Int32
    /// The server's user id.
    public let uid: UInt32
    /// The server's group id.
    public let gid: UInt32

    /// Credentials as the kernel reports them.
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// Linux's struct ucred, which Glibc does not expose to Swift.
struct LinuxPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
