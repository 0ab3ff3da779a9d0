import EventLog
import Forensics
import Foundation
import QSMTesting
import Testing

/// `--since -1h`, the form README and docs/forensics.md show, is a value, not an unknown option: the
/// parser took "-1h" for a flag and said the value was missing; only `--since=-1h` worked (issue 18 item 1).
@Suite("Relative times as separate arguments")
struct RelativeTimeTests {
    @Test func everyRelativeTimeOptionTakesADashValue() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-forensics-relative")
        let store = try EventStore(directory: directory.appending("log"))
        var generator = SeededGenerator(seed: 3)
        _ = try await SyntheticLog.append(count: 200, users: 4, to: store, using: &generator)
        store.close()
        let data = directory.path
        let commands: [[String]] = [
            ["log", "export", "--data", data],
            ["forensics", "query", "--data", data],
            ["forensics", "timeline", "user1", "--data", data],
        ]
        for command in commands {
            for (option, value) in [("--since", "-3650d"), ("--until", "-1s")] {
                let separate = try await runQSM(command + [option, value])
                let joined = try await runQSM(command + ["\(option)=\(value)"])
                #expect(separate.status == 0, "\(command) \(option) \(value): \(separate.standardError)")
                #expect(separate.status == joined.status && separate.output == joined.output, "\(command) \(option) \(value)")
            }
            let both = try await runQSM(command + ["--since", "-3650d", "--until", "-1s"])
            #expect(both.status == 0, "\(command): \(both.standardError)")
        }
    }
}
