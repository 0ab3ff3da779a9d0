import Foundation

/// The outcome of a child process.
struct ProcessResult: Sendable {
    var status: Int32
    var output: String
}

/// Runs a program to completion off the cooperative pool, collecting stdout and stderr together.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws
    -> ProcessResult
{
    try await offload {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}

/// The interpreter of the virtual environment with PyPI's `varlink` (tools/test exports QSM_VARLINK_PYTHON).
func varlinkPython() -> String? {
    if let path = ProcessInfo.processInfo.environment["QSM_VARLINK_PYTHON"], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let candidate = root.appendingPathComponent(".build-venv/bin/python3").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}
