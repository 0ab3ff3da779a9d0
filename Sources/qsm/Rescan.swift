import ArgumentParser
import Broker
import EventLog
import Forensics
import Foundation

extension QSM.Forensics {
    struct Rescan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the intrusion detection rules over the whole log, writing nothing, and compare with the recorded alerts.",
            discussion: """
                Lists every alert the rules would raise, marked `recorded` (the log has it) or `new` (these rules \
                catch what the recorded ones missed), and recorded alerts these rules would not raise \
                (`not-reproduced`). With the rules qsmd ran, every alert is `recorded` and none is missing. \
                Exit status: 0 done, 65 damaged log, 66 no log, 78 unusable rules file.
                """)

        @OptionGroup var options: ForensicsOutputOptions

        @Option(help: ArgumentHelp(
            "IDS rules (JSON, fields as in docs/ids.md; default: the built-in thresholds).", valueName: "FILE"))
        var rules: String?

        @Flag(help: "List only alerts that are new or not reproduced.")
        var changesOnly = false

        func run() async throws {
            let ruleSet: IDSRules
            do { ruleSet = try rules.map { try IDSRules(file: $0) } ?? IDSRules() } catch {
                fail("\(error)", status: 78)
            }
            let log: EventStore
            do { log = try EventStore(directory: options.directory.data + "/log", mode: .readOnly) } catch {
                fail("\(error)", status: openFailureStatus(error))
            }
            let isTerminal = isatty(STDERR_FILENO) == 1
            let report: IDSRescan.Report
            do {
                report = try IDSRescan.run(store: log, rules: ruleSet) { scanned, head in
                    guard head > 0, isTerminal else { return }
                    FileHandle.standardError.write(Data("\rrescanning: \(scanned) of \(head) events (\(scanned * 100 / head)%)".utf8))
                }
            } catch {
                fail("the log cannot be read: \(error)", status: 65)
            }
            if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
            let shown = report.findings.filter { !changesOnly || $0.status != .recorded }
            if options.json {
                for finding in shown { printJSON(Self.object(finding)) }
                return
            }
            let formatter = ISO8601DateFormatter()
            print("STATUS          RULE                 SEVERITY  SUBJECT           TRIGGER  TIME                  SUMMARY")
            for finding in shown {
                let time = formatter.string(from: Date(timeIntervalSince1970: Double(finding.triggerMicros) / 1_000_000))
                print([pad(finding.status.rawValue, 15), pad(finding.rule, 20), pad(finding.severity, 9), pad(finding.subject, 17),
                       pad(String(finding.trigger), 8), pad(time, 21), finding.summary].joined(separator: " "))
            }
            print("rescan: \(report.eventsScanned) events; \(report.count(.recorded) + report.count(.new)) alerts would fire: "
                  + "\(report.count(.recorded)) recorded, \(report.count(.new)) new; "
                  + "\(report.count(.notReproduced)) recorded alerts would not fire under these rules")
        }

        static func object(_ finding: IDSRescan.Finding) -> [String: Any] {
            var object: [String: Any] = [
                "id": finding.id, "rule": finding.rule, "severity": finding.severity, "subject": finding.subject,
                "summary": finding.summary, "triggerPosition": finding.trigger, "triggerAtUs": finding.triggerMicros,
                "triggerAt": Timestamps.string(micros: finding.triggerMicros),
                "evidencePositions": finding.evidence, "status": finding.status.rawValue,
            ]
            if let position = finding.recordedPosition { object["recordedPosition"] = position }
            return object
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
    }
}
