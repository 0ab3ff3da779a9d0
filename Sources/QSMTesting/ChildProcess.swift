public import Foundation
import Synchronization

/// A child process whose standard output is collected line by line as it arrives.
///
/// Each pipe is drained by its own thread with blocking reads until end of file: FileHandle's
/// readabilityHandler crashes libdispatch on Linux when a pipe is torn down while its read source is
/// being cancelled (swift-corelibs-foundation#5507), which the crash tests hit.
public final class ChildProcess: Sendable {
    private let process: Process
    private let output = Mutex<(lines: [String], partial: String)>(([], ""))
    private let errors = Mutex<String>("")
    private let drained = DispatchGroup()

    /// Starts `executable` with `arguments`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        self.process = process
        try process.run()
        // The parent's copies of the write ends must close, or the readers never see end of file.
        try? stdout.fileHandleForWriting.close()
        try? stderr.fileHandleForWriting.close()
        drain(stdout.fileHandleForReading) { [self] data in collect(data) }
        drain(stderr.fileHandleForReading) { [self] data in
            let chunk = String(decoding: data, as: UTF8.self)
            errors.withLock { $0 += chunk }
        }
    }

    private func drain(_ handle: FileHandle, _ deliver: @escaping @Sendable (Data) -> Void) {
        drained.enter()
        let thread = Thread { [drained] in
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    deliver(Data(buffer[0..<count]))
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            try? handle.close()
            drained.leave()
        }
        thread.start()
    }

    private func collect(_ data: Data) {
        let chunk = String(decoding: data, as: UTF8.self)
        output.withLock { state in
            var parts = (state.partial + chunk).components(separatedBy: "\n")
            state.partial = parts.removeLast()
            state.lines.append(contentsOf: parts)
        }
    }

    /// The child's process id.
    public var pid: Int32 { process.processIdentifier }
    /// Standard output lines so far.
    public var lines: [String] { output.withLock { $0.lines } }
    /// Standard error so far.
    public var standardError: String { errors.withLock { $0 } }

    /// Waits until a line satisfying `predicate` has arrived, or `timeout` passes.
    public func waitForLine(timeout: Duration = .seconds(30), where predicate: (String) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if lines.contains(where: predicate) { return true }
            if !process.isRunning { return lines.contains(where: predicate) }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Sends `signal` (SIGKILL by default).
    public func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
    }

    /// Waits for exit and collects the rest of the output; returns the exit status.
    @discardableResult
    public func wait() async throws -> Int32 {
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        // The readers finish at end of file, which comes once the child (and any child of its that
        // inherited the pipes) has exited.
        while drained.wait(timeout: .now()) == .timedOut { try await Task.sleep(for: .milliseconds(5)) }
        output.withLock { state in
            if !state.partial.isEmpty { state.lines.append(state.partial) }
            state.partial = ""
        }
        return process.terminationStatus
    }

    /// Runs to completion and returns (status, stdout lines, stderr).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil)
        async throws -> (Int32, [String], String)
    {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = try await child.wait()
        return (status, child.lines, child.standardError)
    }
}

