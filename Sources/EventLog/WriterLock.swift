import Foundation

/// An exclusive advisory lock (flock) on `writer.lock` in the log directory: one writer per log.
/// The kernel drops it when the process dies, so a crashed broker never leaves a stale lock.
final class WriterLock: @unchecked Sendable {
    private var fd: Int32

    init(directory: String) throws(EventLogError) {
        let path = directory + "/writer.lock"
        fd = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EACCES || code == EPERM || code == EROFS {
                throw .permissionDenied(path: path, detail: "cannot create the writer lock")
            }
            throw .storage(path: path, detail: String(cString: strerror(code)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            Foundation.close(fd)
            throw .alreadyLocked(path: directory, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "another process")
        }
        let note = "pid \(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    func release() {
        guard fd >= 0 else { return }
        Foundation.close(fd)  // closing the descriptor releases the flock
        fd = -1
    }

    deinit { release() }
}
