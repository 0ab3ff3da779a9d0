internal import Glibc

/// Why the server could not take its socket path.
public enum VarlinkServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path is longer than a Unix socket address holds (103 bytes).
    case pathTooLong(String)
    /// Another process is serving on this socket.
    case addressInUse(String)
    /// Something that is not a socket is at this path; it is left alone.
    case notASocket(String)
    /// `chmod` of the socket failed with this errno.
    case chmodFailed(String, errno: Int32)
    /// The socket could not be made in a private directory beside its path, or moved into place.
    case stagingFailed(String, errno: Int32)
    /// `start()` was called twice, or after `stop()`.
    case alreadyStarted

    public var description: String {
        switch self {
        case .pathTooLong(let path): "socket path longer than 103 bytes: \(path)"
        case .addressInUse(let path): "another process is serving on \(path)"
        case .notASocket(let path): "not a socket, refusing to replace it: \(path)"
        case .chmodFailed(let path, let code): "chmod \(path) failed: \(String(cString: strerror(code)))"
        case .stagingFailed(let path, let code):
            "cannot create the socket beside \(path): \(String(cString: strerror(code)))"
        case .alreadyStarted: "the server was already started"
        }
    }
}

/// The socket file: refusing to steal a live socket, replacing a stale one, setting its mode.
enum SocketFile {
    static let maxPathLength = 103

    /// Makes `path` free to bind: nothing there, or a stale socket that is removed.
    static func prepare(_ path: String) throws(VarlinkServerError) {
        if try check(path) { unlink(path) }
    }

    /// Whether `path` could be bound, changing nothing: true when a stale socket is there to replace.
    static func check(_ path: String) throws(VarlinkServerError) -> Bool {
        guard path.utf8.count <= maxPathLength else { throw .pathTooLong(path) }
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path) }
        if isLive(path) { throw .addressInUse(path) }
        return true
    }

    /// Whether a process accepts connections on the socket at `path`.
    static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    static func chmod(_ path: String, mode: UInt32) throws(VarlinkServerError) {
        guard Glibc.chmod(path, mode_t(mode)) == 0 else { throw .chmodFailed(path, errno: errno) }
    }

    /// A private directory (mode 0700) beside `path` to bind in, so nobody can connect before the socket
    /// has its mode; nil when the staged path would not fit a socket address (the caller binds in place).
    static func makeStagingDirectory(for path: String) throws(VarlinkServerError) -> String? {
        let parent = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let template = (parent.isEmpty ? "" : parent) + "/.varlink-XXXXXX"
        guard template.utf8.count + 2 <= maxPathLength else { return nil }
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw .stagingFailed(path, errno: errno) }
        return String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Moves the bound, chmod-ed socket from its staging directory to `path` and removes the directory.
    static func moveIntoPlace(_ staged: String, staging: String, to path: String) throws(VarlinkServerError) {
        defer { rmdir(staging) }
        guard rename(staged, path) == 0 else {
            let code = errno
            unlink(staged)
            throw .stagingFailed(path, errno: code)
        }
    }

    /// The inode of the socket at `path`, to recognise our own file at shutdown.
    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    /// Removes the socket file if it is still the one we created.
    static func remove(_ path: String, inode: UInt64?) {
        guard let inode, self.inode(path) == inode else { return }
        unlink(path)
    }
}
