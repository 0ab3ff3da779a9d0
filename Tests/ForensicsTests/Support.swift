import EventLog
import Foundation
import QSMTesting

/// Paths of the package's built products, which sit beside the test runner.
enum Products {
    static var directory: String {
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: runner).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("qsm").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.path
    }

    static var qsm: String { directory + "/qsm" }
    static var logload: String { directory + "/qsm-logload" }
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
    /// Debian's interpreter (tools/test sets QSM_PYTHON to it).
    static let python = ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3"
}

/// The outcome of running the qsm binary.
struct QSMRun {
    let status: Int32
    /// Standard output, in full (written to a file, not a pipe: export writes megabytes).
    let output: Data
    let standardError: String

    var text: String { String(decoding: output, as: UTF8.self) }
    var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
}

/// Runs `qsm arguments` with standard output to a temporary file; returns status, output and errors.
func runQSM(_ arguments: [String]) async throws -> QSMRun {
    let scratch = try TemporaryDirectory(prefix: "qsm-forensics-out")
    let outputPath = scratch.appending("stdout")
    let quoted = ([Products.qsm] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let command = quoted.joined(separator: " ") + " > '\(outputPath)'"
    let (status, _, standardError) = try await ChildProcess.run(
        "/bin/sh", ["-c", command], environment: ["PATH": "/usr/bin:/bin", "HOME": scratch.path])
    let output = (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data()
    return QSMRun(status: status, output: output, standardError: standardError)
}

/// Runs Debian's python3 on `script` with `arguments`; returns (status, stdout lines, stderr).
func runPython(_ script: String, _ arguments: [String]) async throws -> (Int32, [String], String) {
    try await ChildProcess.run(
        Products.python, ["-c", script] + arguments, environment: ["PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"])
}
