import Foundation
import QSMTesting
import Testing

/// qsmd on a data path it cannot use says so in one line naming the path, with exit status 74, instead
/// of a Foundation error dump (issue 18 item 11: `Error Domain=NSCocoaErrorDomain Code=516 ...`).
@Suite("qsmd: unusable data directories")
struct DataDirectoryTests {
    private func start(_ data: String, as user: [String] = []) async throws -> (Int32, String) {
        let scratch = try TemporaryDirectory(prefix: "qsm-datadir-socket")
        chmod(scratch.path, 0o777)
        let command = user + [Products.qsmd, "--data", data, "--socket", scratch.appending("qsm.sock")]
        let (status, _, stderr) = try await ChildProcess.run("/usr/bin/timeout", ["30"] + command)
        return (status, stderr)
    }

    @Test func aFileWhereTheDirectoryShouldBeIsOneLine() async throws {
        let scratch = try TemporaryDirectory(prefix: "qsm-datadir")
        let file = scratch.appending("not-a-directory")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        for data in [file, file + "/data"] {
            let (status, stderr) = try await start(data)
            #expect(status == 74, "\(data): \(stderr)")
            #expect(!stderr.contains("NSCocoaErrorDomain") && !stderr.contains("Error Domain"), "\(stderr)")
            let lines = stderr.split(separator: "\n").filter { $0.contains("critical") }
            #expect(lines.count == 1 && lines[0].contains(file) && lines[0].contains("not a directory"), "\(stderr)")
        }
    }

    /// As uid 65534, a directory it may not create or write in.
    @Test func aDirectoryThisUserCannotWriteIsOneLine() async throws {
        guard getuid() == 0 else {
            print("DataDirectoryTests: SKIPPED the unwritable cases: running qsmd as uid 65534 needs root (uid \(getuid()))")
            return
        }
        let scratch = try TemporaryDirectory(prefix: "qsm-datadir")
        chmod(scratch.path, 0o755)
        let nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        for (data, words) in [(scratch.appending("new/data"), "not writable by uid 65534"), (scratch.path, "not writable by uid 65534")] {
            let (status, stderr) = try await start(data, as: nobody)
            #expect(status == 74, "\(data): \(stderr)")
            #expect(!stderr.contains("Error Domain"), "\(stderr)")
            #expect(stderr.contains(words) && stderr.contains(scratch.path), "\(stderr)")
        }
    }
}
