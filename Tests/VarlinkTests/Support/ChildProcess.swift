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
        // Output goes to a file: reading a Pipe can hit EINTR inside Foundation, which traps.
        let outputPath = "/tmp/vl-out-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outputPath)
        else { throw TestClientError(description: "cannot create \(outputPath)") }
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        try? output.close()
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
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
