// qsm-logload: drives an event log from a separate process, for the crash, concurrent-reader,
// lock and disk-full tests. Every acknowledgement is printed (and flushed) only after append returned,
// i.e. after the commit was durable, so a parent that kills this process knows what must survive.
import EventLog
import Foundation
import QSMEvents
import QSMTesting

let usage = """
    usage: qsm-logload COMMAND --dir DIR [options]
      append [--count N] [--tasks T]  append message events from T concurrent tasks (N total, 0 = forever);
                                      prints "acked POSITION SEQUENCE" after each durable append
      fill [--batch B] [--free FILE]  append batches of B events until an error; prints "acked N" and
                                      "error KIND: DESCRIPTION"; with --free, then deletes FILE and appends
                                      one more batch in the same process: "after-free acked N"
      open [--read-only]              open the log; prints "ok HEAD" or "error KIND: DESCRIPTION"
      hold                            open read-write, print "holding", wait until killed
      verify                          prints "valid EVENTS HASH" or "invalid POSITION: PROBLEM"
    """

/// Writes a line to stdout unbuffered, so a parent sees it before any kill.
func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("qsm-logload: \(message)\n\(usage)\n".utf8))
    exit(64)
}

let command = CommandLine.arguments.dropFirst().first ?? "--help"
let arguments = Array(CommandLine.arguments.dropFirst(2))
if command == "--help" || command == "-h" || arguments.contains("--help") {
    print(usage)
    exit(CommandLine.arguments.count < 2 ? 64 : 0)
}
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name) else { return nil }
    guard index + 1 < arguments.count else { fail("\(name) needs a value") }
    return arguments[index + 1]
}
func intOption(_ name: String, default value: Int) -> Int {
    guard let text = option(name) else { return value }
    guard let number = Int(text), number >= 0 else { fail("\(name) must be a non-negative integer, not '\(text)'") }
    return number
}
guard let directory = option("--dir") else { fail("--dir DIR is required") }

func kind(_ error: EventLogError) -> String {
    switch error {
    case .notFound: "notFound"
    case .notALog: "notALog"
    case .newerFormat: "newerFormat"
    case .permissionDenied: "permissionDenied"
    case .diskFull: "diskFull"
    case .alreadyLocked: "alreadyLocked"
    case .readOnly: "readOnly"
    case .closed: "closed"
    case .invalidEvent: "invalidEvent"
    case .corruptRecord: "corruptRecord"
    case .storage: "storage"
    case .conflict: "conflict"
    case .olderFormat: "olderFormat"
    case .anotherLog: "anotherLog"
    case .unavailable: "unavailable"
    }
}

func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }

/// Counts appends across tasks; the sequence number goes into each event's correlation id.
actor Sequencer {
    private var next: UInt64 = 0
    func take() -> UInt64 {
        next += 1
        return next
    }
}

do {
    switch command {
    case "append":
        let log = try EventStore(directory: directory)
        let count = intOption("--count", default: 0)
        let tasks = max(intOption("--tasks", default: 8), 1)
        let sequencer = Sequencer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var generator = SeededGenerator(seed: UInt64(task))
                    while true {
                        let sequence = await sequencer.take()
                        if count > 0 && sequence > UInt64(count) { return }
                        var event = try SampleEvents.message(sender: "loader-\(task)", using: &generator)
                        event.correlationID = withUnsafeBytes(of: sequence.bigEndian) { Data($0) }
                        let positions = try await log.append([event])
                        emit("acked \(positions[0]) \(sequence)")
                    }
                }
            }
            try await group.waitForAll()
        }
        log.close()
    case "fill":
        let log = try EventStore(directory: directory)
        let batch = max(intOption("--batch", default: 64), 1)
        var generator = SeededGenerator(seed: 1)
        var acknowledged = 0
        do {
            while true {
                let events = try (0..<batch).map { _ in try SampleEvents.message(recordSize: 1000, using: &generator) }
                acknowledged += try await log.append(events).count
            }
        } catch {
            emit("acked \(acknowledged)")
            let logError = error as? EventLogError ?? .storage(path: directory, detail: "\(error)")
            emit("error \(kind(logError)): \(logError)")
        }
        if let file = option("--free") {
            try FileManager.default.removeItem(atPath: file)
            let events = try (0..<batch).map { _ in try SampleEvents.message(recordSize: 1000, using: &generator) }
            acknowledged += try await log.append(events).count
            emit("after-free acked \(acknowledged)")
        }
        log.close()
    case "open":
        let log = try EventStore(directory: directory, mode: arguments.contains("--read-only") ? .readOnly : .readWrite)
        emit("ok \(try log.head().position)")
        log.close()
    case "hold":
        let log = try EventStore(directory: directory)
        emit("holding")
        while true { try await Task.sleep(for: .seconds(3600)) }
        _ = log
    case "verify":
        let report = try EventStore(directory: directory, mode: .readOnly).verify()
        if let (position, problem) = report.firstProblem {
            emit("invalid \(position): \(problem)")
            exit(1)
        }
        emit("valid \(report.verifiedEvents) \(hex(report.verifiedHash))")
    default:
        fail("unknown command '\(command)'")
    }
} catch let error as EventLogError {
    emit("error \(kind(error)): \(error)")
    exit(1)
}
