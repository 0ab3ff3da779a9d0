import Dispatch
import Foundation

/// The fuzz targets by name, each a function of one input that returns normally on any input and stops
/// the process (a failed check or a sanitizer report) on a bug. The libFuzzer executables call them, and
/// FuzzTests replays the committed corpora and regressions through them in a normal build.
public enum FuzzTargets {
    /// Every target: its name (as in `tools/fuzz TARGET` and `tools/fuzz/corpus/TARGET`) and entry function.
    public static let all: [(name: String, run: @Sendable (UnsafeRawBufferPointer) -> Void)] = [
        ("varlink-frame", VarlinkFrameFuzzer.run),
        ("varlink-broker", VarlinkBrokerFuzzer.run),
        ("event-record", EventRecordFuzzer.run),
        ("ids-rules", IDSRulesFuzzer.run),
    ]

    /// The entry function of the target named `name`, if there is one.
    public static func target(named name: String) -> (@Sendable (UnsafeRawBufferPointer) -> Void)? {
        all.first { $0.name == name }?.run
    }

    /// Runs `run` on each file named in `arguments` (directories: each file in them), for the fuzz
    /// executables built without libFuzzer: `fuzz-varlink-frame tools/fuzz.d/corpus/varlink-frame`.
    public static func replay(_ arguments: [String], through run: (UnsafeRawBufferPointer) -> Void) {
        var files: [String] = []
        for path in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(path)\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { run($0) }
        }
        print("replayed \(files.count) inputs")
    }

    /// Fails the run with `message` when `condition` does not hold: a finding, reported like a crash.
    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition {
            FileHandle.standardError.write(Data("fuzz check failed: \(message())\n".utf8))
            abort()
        }
    }
}

/// Runs async work to completion from a synchronous fuzz entry (libFuzzer calls in on its own thread,
/// never one of Swift's cooperative pool).
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = BlockingResult<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    return box.value!
}

/// The value a `runBlocking` task hands back; written before the semaphore is signalled, read after.
private final class BlockingResult<T>: @unchecked Sendable {
    var value: T?
}

/// Reads an input front to back: bytes that steer a target, then the rest.
struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next byte, or 0 past the end.
    mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    /// The next two bytes, little-endian (0 past the end).
    mutating func uint16() -> Int {
        Int(byte()) | Int(byte()) << 8
    }

    /// Up to `count` next bytes.
    mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, index + max(0, count))
        defer { index = end }
        return Array(bytes[index..<end])
    }

    /// Everything not read yet.
    mutating func rest() -> [UInt8] { take(bytes.count - index) }

    var isAtEnd: Bool { index >= bytes.count }
}
