#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Custody of a small secret file (the master key, the broker's signing seed): created once with mode 0600
/// by writing a temporary file and linking it into place (never half-written), and refused when group or
/// others have any access to it.
enum KeyFile {
    /// Reads the key at `path`, or creates it with `generate()` when there is no file.
    /// - Returns: the key and whether it was created now.
    static func loadOrCreate(
        path: String, byteCount: Int, generate: () -> SecretBytes
    ) throws(QSMCryptoError) -> (key: SecretBytes, created: Bool) {
        for _ in 0..<3 {
            if let key = try load(path: path, byteCount: byteCount, missingIsNil: true) { return (key, false) }
            if try create(path: path, key: generate()) {
                return (try load(path: path, byteCount: byteCount, missingIsNil: false)!, true)
            }
            // Another process created it between our attempts: read theirs.
        }
        throw .keyFileNotCreated(path: path, reason: "the file kept appearing and disappearing")
    }

    /// Reads the key at `path`; `nil` when it does not exist and `missingIsNil`.
    static func load(path: String, byteCount: Int, missingIsNil: Bool) throws(QSMCryptoError) -> SecretBytes? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT && missingIsNil { return nil }
            if code == ELOOP { throw .keyFileNotRegular(path: path) }
            throw .keyFileUnreadable(path: path, reason: describe(code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .keyFileUnreadable(path: path, reason: describe(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .keyFileNotRegular(path: path) }
        let mode = UInt32(info.st_mode & 0o7777)
        guard mode & 0o077 == 0 else { throw .keyFileTooOpen(path: path, mode: mode) }
        guard Int(info.st_size) == byteCount else {
            throw .keyFileWrongSize(path: path, expected: byteCount, actual: Int(info.st_size))
        }
        var readError: Int32 = 0
        var readCount = 0
        let key = SecretBytes(uninitializedCount: byteCount) { buffer in
            while readCount < byteCount {
                let n = read(fd, buffer.baseAddress! + readCount, byteCount - readCount)
                if n < 0 {
                    if errno == EINTR { continue }
                    readError = errno
                    return
                }
                if n == 0 { return }
                readCount += n
            }
        }
        if readError != 0 { throw .keyFileUnreadable(path: path, reason: describe(readError)) }
        guard readCount == byteCount else {
            throw .keyFileWrongSize(path: path, expected: byteCount, actual: readCount)
        }
        return key
    }

    /// Writes `key` to a temporary file (mode 0600, synced) and links it to `path`.
    /// - Returns: `false` when `path` already exists (someone else created it first).
    private static func create(path: String, key: SecretBytes) throws(QSMCryptoError) -> Bool {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let temporary = path + ".tmp-" + Sodium.randomBytes(8).map { String($0, radix: 16) }.joined()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .keyFileNotCreated(path: path, reason: describe(errno)) }
        var failure: Int32 = 0
        // The creation mode is filtered by the umask; set 0600 exactly.
        if fchmod(fd, 0o600) != 0 { failure = errno }
        if failure == 0 {
            failure = key.withUnsafeBytes { bytes in
                var written = 0
                while written < bytes.count {
                    let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    written += n
                }
                return 0
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        defer { unlink(temporary) }
        guard failure == 0 else { throw .keyFileNotCreated(path: path, reason: describe(failure)) }
        if link(temporary, path) != 0 {
            let code = errno
            if code == EEXIST { return false }
            throw .keyFileNotCreated(path: path, reason: describe(code))
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
        return true
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
