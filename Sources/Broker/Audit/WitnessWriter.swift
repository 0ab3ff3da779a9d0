import Foundation

/// Appends witness records to a file outside the data directory, one durable line at a time.
final class WitnessWriter: Sendable {
    let path: String
    private let descriptor: Int32

    /// Opens (creating, mode 0644: checkpoints are public) `path` for appending; refuses a path inside
    /// the data directory, where it would witness nothing, a symbolic link (which could aim the appends
    /// at a file another user chose), and a file owned by another user or writable by others (who
    /// could empty or rewrite what it witnessed).
    init(path: String, dataDirectory: String) throws {
        let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let data = URL(fileURLWithPath: dataDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved != data, !resolved.hasPrefix(data + "/") else {
            throw BrokerError.invalidParameter(
                name: "witness", reason: "\(path) is inside the data directory; keep the witness where the data is not")
        }
        self.path = path
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            let code = errno
            if code == ELOOP {
                throw BrokerError.invalidParameter(
                    name: "witness", reason: "\(path) is a symbolic link; name the file itself")
            }
            throw BrokerError.unavailable("cannot open the witness file \(path): \(String(cString: strerror(code)))")
        }
        var status = stat()
        let problem: String? = if fstat(descriptor, &status) != 0 {
            "cannot be examined: \(String(cString: strerror(errno)))"
        } else if (status.st_mode & S_IFMT) != S_IFREG && (status.st_mode & S_IFMT) != S_IFIFO {
            "is neither a regular file nor a pipe"
        } else if status.st_uid != geteuid() {
            "is owned by uid \(status.st_uid), not by qsmd's uid \(geteuid())"
        } else if status.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            "is writable by others (mode \(String(status.st_mode & 0o777, radix: 8))): chmod go-w \(path)"
        } else {
            nil
        }
        if let problem {
            close(descriptor)
            throw BrokerError.invalidParameter(name: "witness", reason: "\(path) \(problem)")
        }
    }

    deinit { close(descriptor) }

    /// Appends `record` and waits until it is on disk.
    func append(_ record: WitnessRecord) throws {
        let bytes = Array(record.line.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw BrokerError.unavailable("witness write: \(written < 0 ? String(cString: strerror(errno)) : "short write")")
        }
        guard fsync(descriptor) == 0 else { throw BrokerError.unavailable("witness fsync: \(String(cString: strerror(errno)))") }
    }

    /// Appends `latest` when the file's last record is another, so a new or lagging witness starts from
    /// the log's latest checkpoint. After the operator accepted a log cut back behind the witness
    /// (`--accept-damaged-log`), that is an older checkpoint than the file's last: appended too, so the
    /// witness's last line is again what the log holds, and the file keeps what it saw before.
    func catchUp(with latest: WitnessRecord) throws {
        let seen = (try? WitnessRecord.read(path: path)) ?? []
        if let other = seen.first(where: { $0.statement.logID != latest.statement.logID }) {
            throw BrokerError.invalidParameter(
                name: "witness", reason: "\(path) witnesses another log (\(other.statement.logID.uuidString.lowercased()))")
        }
        if let last = seen.last, last.eventPosition == latest.eventPosition, last.signature.elementsEqual(latest.signature) { return }
        try append(latest)
    }
}
