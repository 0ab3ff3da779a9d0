import Foundation
import Glibc
import Synchronization

/// A child process on a pseudo-terminal of a given width: standard input, output and error are the
/// terminal, so the child sees what a user's shell gives it (isatty, the window size, no-echo prompts).
final class Terminal: Sendable {
    private let master: Int32
    private let process: Process
    private let received = Mutex<String>("")
    private let drained = DispatchSemaphore(value: 0)

    /// Starts `executable` with `arguments` on a new terminal `columns` wide.
    init(_ executable: String, _ arguments: [String], environment: [String: String], columns: Int = 80) throws {
        // posix_openpt, unlockpt and ptsname are hidden from Swift's Glibc (they need _XOPEN_SOURCE): the
        // same through /dev/ptmx and Linux's ioctls (TIOCSPTLCK, TIOCGPTN; their _IOW/_IOR values do not import).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw DaemonError("no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        let name = "/dev/pts/\(number)"
        var size = winsize(ws_row: 40, ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        let slave = open(name, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw DaemonError("cannot open \(name)") }
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(self.master, $0.baseAddress, $0.count) }
                if count > 0 {
                    let text = String(decoding: buffer[0..<count], as: UTF8.self)
                    self.received.withLock { $0 += text }
                } else if count == 0 || errno != EINTR {
                    break  // EIO once the child and every copy of the terminal have closed
                }
            }
            self.drained.signal()
        }
        thread.start()
    }

    deinit { close(master) }

    /// Everything the child wrote so far (carriage returns included).
    var output: String { received.withLock { $0 } }

    /// The child's process id.
    var pid: Int32 { process.processIdentifier }

    /// Types `text` (a newline is Enter).
    func type(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
    }

    /// Waits until the output contains `text`, or `timeout` passes.
    func waitFor(_ text: String, timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// The exit status (128 + signal for a signal), or nil when the child is still running after
    /// `timeout` (it is then killed).
    func wait(timeout: Duration = .seconds(30)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                process.waitUntilExit()
                return nil
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = drained.wait(timeout: .now() + 5)
        let status = process.terminationStatus
        return process.terminationReason == .uncaughtSignal ? 128 + status : status
    }
}
