import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a socket could not be reached, in words that point at the fix: the hint about starting qsmd is
/// for a missing socket only, and tools/run is named only for the checkout's default path.
enum ConnectFailure {
    /// One line for a failed connect to `path`, from what the path is now (the connect's errno does not
    /// survive the client's cleanup).
    static func explain(path: String) -> String {
        var status = stat()
        let exists = lstat(path, &status) == 0
        let code: Int32 = if !exists { errno } else if access(path, W_OK) != 0 { EACCES } else { ECONNREFUSED }
        let kind = status.st_mode & S_IFMT
        if exists && kind == S_IFDIR {
            return "\(path) is a directory, not qsmd's socket: name the socket file (for example \(path)/qsm.sock)"
        }
        if exists && kind != S_IFSOCK {
            return "\(path) is not a socket (qsmd's socket is where its --socket option put it)"
        }
        switch code {
        case EACCES, EPERM:
            let group = getgrgid(status.st_gid).map { String(cString: $0.pointee.gr_name) } ?? "gid \(status.st_gid)"
            let mode = exists ? " (owner uid \(status.st_uid), group \(group), mode \(String(status.st_mode & 0o777, radix: 8)))" : ""
            return "permission denied on \(path)\(mode): ask the operator to add you to group \(group), "
                + "or check that you may enter every directory above it"
        case ECONNREFUSED:
            return "nothing listens on \(path): qsmd stopped (its socket file is left over); start qsmd again"
        case ENOENT where path == ServerCheck.defaultSocket:
            return "no socket at \(path) (the checkout's default): is qsmd running? tools/run starts it here; "
                + "elsewhere, give --socket PATH or set QSM_SOCKET"
        case ENOENT:
            return "no socket at \(path): is qsmd running, and started with --socket \(path)?"
        default:
            return "cannot reach \(path): \(String(cString: strerror(code)))"
        }
    }
}
