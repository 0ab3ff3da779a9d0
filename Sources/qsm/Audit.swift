import ArgumentParser
import EventLog
import Foundation

extension QSM {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the integrity of a data directory.", subcommands: [Verify.self])
    }
}

extension QSM.Audit {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain from position 1 and report the first bad position.",
            discussion: "Exit status 0 only when the whole chain holds; progress goes to standard error.")

        @OptionGroup var options: DataOptions

        func run() async throws {
            let log = try openReadOnly(options)
            let isTerminal = isatty(STDERR_FILENO) == 1
            let report = try log.verify { checked, total in
                guard total > 0, !options.json else { return }
                let line = "verifying: \(checked) of \(total) events (\(checked * 100 / total)%)"
                FileHandle.standardError.write(Data((isTerminal ? "\r" + line : line + "\n").utf8))
            }
            if isTerminal && !options.json { FileHandle.standardError.write(Data("\n".utf8)) }
            let hash = report.verifiedHash.map { String(format: "%02x", $0) }.joined()
            if options.json {
                var object: [String: Any] = ["valid": report.isValid, "verifiedEvents": report.verifiedEvents, "hash": hash]
                if let (position, problem) = report.firstProblem {
                    object["firstBadPosition"] = position
                    object["problem"] = problem.description
                }
                printJSON(object)
            } else if let (position, problem) = report.firstProblem {
                print("chain BROKEN at position \(position): \(problem)")
                print("the first \(report.verifiedEvents) events verify; h(\(report.verifiedEvents)) = \(hash)")
            } else {
                print("chain OK: \(report.verifiedEvents) events, head hash \(hash)")
            }
            if !report.isValid { throw ExitCode(1) }
        }
    }
}

/// Opens the log of a data directory read-only, turning errors into a clean exit.
func openReadOnly(_ options: DataOptions) throws -> EventStore {
    do {
        return try EventStore(directory: options.logDirectory, mode: .readOnly)
    } catch {
        FileHandle.standardError.write(Data("qsm: \(error)\n".utf8))
        throw ExitCode(66)  // EX_NOINPUT
    }
}

/// Prints `object` as one line of JSON with sorted keys.
func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}
