import ArgumentParser
import Broker
import EventLog
import Foundation

extension QSM {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the integrity of a data directory: hash chain, signed checkpoints, witness.",
            subcommands: [Verify.self, Pubkey.self])
    }
}

extension QSM.Audit {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain from position 1, every checkpoint signature, and a witness file.",
            discussion: """
                Reports the first bad position and what is wrong there. Exit status: 0 when everything holds, \
                1 when something does not, 65 when the public key or witness file is unusable, 66 when the \
                data directory holds no readable log. Progress goes to standard error. Without --pubkey the \
                key is read from DIR/signing.pub, which whoever controls the data directory could replace: \
                keep a copy elsewhere (qsm audit pubkey) and pass it.
                """)

        @OptionGroup var options: LogSourceOptions

        @Option(help: ArgumentHelp("The broker's public key (PEM, from qsm audit pubkey).", valueName: "FILE"))
        var pubkey: String?

        @Option(help: ArgumentHelp("A witness file written by qsmd --witness.", valueName: "FILE"))
        var witness: String?

        func validate() throws {
            if options.store != nil && pubkey == nil {
                throw ValidationError("with --store, pass --pubkey FILE (qsm audit pubkey --data DIR prints it on the broker's host)")
            }
        }

        func run() async throws {
            let log = try await options.open()
            let keyPath = pubkey ?? BrokerConfiguration.signingPublicKeyPath(dataDirectory: options.data ?? "")
            let publicKey: Data
            do { publicKey = try SigningPublicKeyFile.read(path: keyPath) } catch {
                let hint = pubkey == nil ? " (pass --pubkey FILE)" : ""
                fail("\(error)\(hint)", status: pubkey == nil && !FileManager.default.fileExists(atPath: keyPath) ? 66 : 65)
            }
            var records: [WitnessRecord] = []
            if let witness {
                do { records = try WitnessRecord.read(path: witness) } catch { fail("\(error)", status: 65) }
            }
            let isTerminal = isatty(STDERR_FILENO) == 1
            let report: AuditVerifier.Report
            do {
                report = try await AuditVerifier(store: log, publicKey: publicKey, witness: records).verify { checked, total in
                    guard total > 0, !options.json else { return }
                    let line = "verifying: \(checked) of \(total) events (\(checked * 100 / total)%)"
                    FileHandle.standardError.write(Data((isTerminal ? "\r" + line : line + "\n").utf8))
                }
            } catch {
                fail("cannot read the log: \(error)", status: 66)
            }
            if isTerminal && !options.json { FileHandle.standardError.write(Data("\n".utf8)) }
            let hash = report.chain.verifiedHash.hex
            if options.json {
                var object: [String: Any] = [
                    "valid": report.isValid, "verifiedEvents": report.chain.verifiedEvents, "hash": hash,
                    "checkpointsVerified": report.checkpointsVerified, "lastSignedPosition": report.lastSignedPosition,
                    "witnessRecords": report.witnessRecords,
                    "problems": report.problems.map { ["position": $0.position, "problem": $0.description] },
                ]
                if let first = report.firstProblem {
                    object["firstBadPosition"] = first.position
                    object["problem"] = first.description
                }
                printJSON(object)
            } else {
                if let first = report.firstProblem {
                    print("log BROKEN: first bad position \(first.position): \(first.description)")
                    for other in report.problems.dropFirst().prefix(9) { print("  also at \(other.position): \(other.description)") }
                    if report.problems.count > 10 { print("  and \(report.problems.count - 10) more problems") }
                } else {
                    print("chain OK: \(report.chain.verifiedEvents) events, head hash \(hash)")
                }
                print("checkpoints: \(report.checkpointsVerified) verified, signed through position \(report.lastSignedPosition)"
                      + (report.chain.verifiedEvents > report.lastCheckpointEvent
                         ? " (\(report.chain.verifiedEvents - report.lastCheckpointEvent) events after the last checkpoint)" : ""))
                if witness != nil { print("witness: \(report.witnessRecords) records checked") }
                if pubkey == nil {
                    print("note: signatures were checked against \(keyPath), inside the data directory; pass --pubkey with a copy kept elsewhere")
                }
            }
            if !report.isValid { throw ExitCode(1) }
        }
    }

    struct Pubkey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the broker's checkpoint-signing public key (PEM).",
            discussion: "Keep a copy apart from the data directory and pass it to qsm audit verify --pubkey.")

        @Option(name: .long, help: ArgumentHelp("The broker's data directory.", valueName: "DIR"))
        var data: String

        func run() async throws {
            let path = BrokerConfiguration.signingPublicKeyPath(dataDirectory: data)
            guard FileManager.default.fileExists(atPath: path) else {
                fail("no public key at \(path): is \(data) a qsm data directory that qsmd has opened?", status: 66)
            }
            do { print(SigningPublicKeyFile.pem(for: try SigningPublicKeyFile.read(path: path)), terminator: "") } catch {
                fail("\(error)", status: 65)
            }
        }
    }
}

/// Prints `message` to standard error and exits with `status`.
func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("qsm: \(message)\n".utf8))
    exit(status)
}

/// Opens the log of a data directory read-only, turning errors into a clean exit.
func openReadOnly(_ options: DataOptions) throws -> EventStore {
    try openReadOnly(dataDirectory: options.data)
}

/// Opens the log of the data directory `dataDirectory` read-only, turning errors into a clean exit.
func openReadOnly(dataDirectory: String) throws -> EventStore {
    do {
        return try EventStore(directory: dataDirectory + "/log", mode: .readOnly)
    } catch {
        FileHandle.standardError.write(Data("qsm: \(error)\n".utf8))
        throw ExitCode(openFailureStatus(error))
    }
}

/// The exit status for a log that cannot be opened: 77 when this uid may not read it (EX_NOPERM), 66
/// (EX_NOINPUT) otherwise, as docs/forensics.md lists.
func openFailureStatus(_ error: EventLogError) -> Int32 {
    if case .permissionDenied = error { return 77 }
    return 66
}

/// Prints `object` as one line of JSON with sorted keys.
func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}
