import Foundation

/// Appends witness records to a file outside the data directory, one durable line at a time.
final class WitnessWriter: Sendable {
    let path: String
    private let descriptor: Int32

    /// Opens (creating, mode 0644: checkpoints are public) `path` for appending; refuses a path inside
    /// the data directory, where it would witness nothing.
    init(path: String, dataDirectory: String) throws {
        let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let data = URL(fileURLWithPath: dataDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved != data, !resolved.hasPrefix(data + "/") else {
            throw BrokerError.invalidParameter(
                name: "witness", reason: "\(path) is inside the data directory; keep the witness where the data is not")
        }
        self.path = path
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw BrokerError.unavailable("cannot open the witness file \(path): \(String(cString: strerror(errno)))")
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

    /// Appends `latest` when the file's last record is older, so a new or lagging witness starts from
    /// the log's latest checkpoint.
    func catchUp(with latest: WitnessRecord) throws {
        let seen = (try? WitnessRecord.read(path: path)) ?? []
        if let other = seen.first(where: { $0.statement.logID != latest.statement.logID }) {
            throw BrokerError.invalidParameter(
                name: "witness", reason: "\(path) witnesses another log (\(other.statement.logID.uuidString.lowercased()))")
        }
        if latest.eventPosition > seen.last?.eventPosition ?? 0 { try append(latest) }
    }
}
