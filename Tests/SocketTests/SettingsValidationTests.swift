import Foundation
import QSMTesting
import Testing

/// qsmd refuses a configuration file with a value out of range: exit 78 (EX_CONFIG), a message naming
/// the field, and no socket served. One case per rule of DaemonSettings.
@Suite("qsmd --config: invalid values are refused, naming the field")
struct SettingsValidationTests {
    static let invalid: [(field: String, value: any Sendable)] = [
        ("checkpointIntervalSeconds", -1),
        ("maxFrameBytes", -1), ("maxConnections", -1), ("reservedConnections", -1), ("maxConnectionsPerUID", -1),
        ("maxCallsPerUID", -1), ("maxStreamsPerUID", -1), ("maxInputBytesPerConnection", -1),
        ("maxInputBytesPerUID", -1),
        ("exchangeThreads", 0), ("exchangeThreads", 65),
        ("qubitBudget", -1),
        ("qubitBudgetWindowSeconds", 0),
        ("socketMode", "0999"), ("socketMode", "rw-rw----"),
    ]

    @Test(arguments: invalid.indices)
    func anInvalidValueIsRefused(index: Int) async throws {
        let (field, value) = Self.invalid[index]
        let directory = try TemporaryDirectory(prefix: "qsm-settings")
        let config = directory.appending("qsmd.json")
        let socket = directory.appending("qsm.sock")
        try JSONSerialization.data(withJSONObject: [field: value]).write(to: URL(fileURLWithPath: config))
        let child = try ChildProcess(Products.qsmd, ["--data", directory.appending("data"), "--socket", socket, "--config", config])
        // A refused value stops qsmd at once; an accepted one serves: wait for one or the other, bounded.
        _ = try await child.waitForLine(timeout: .seconds(60)) { _ in Daemon.answers(socket) }
        if Daemon.answers(socket) { child.kill(SIGTERM) }
        let status = try await child.wait()
        let err = child.standardError
        #expect(status == 78, "\(field) = \(value): exit \(status) \(err)")
        #expect(err.contains("Cannot use the configuration") && err.contains("\(field) must be"), "\(field) = \(value): \(err)")
        #expect(!FileManager.default.fileExists(atPath: socket), "\(field) = \(value): the socket was served")
    }

    /// The edges of each range are accepted: the refusals above are the rules, not a broken parser.
    @Test func theEdgesOfEachRangeAreAccepted() async throws {
        let daemon = try await Daemon(settings: cheapSettings([
            "checkpointIntervalSeconds": 0, "maxStreamsPerUID": 0, "exchangeThreads": 64, "qubitBudget": 0,
            "qubitBudgetWindowSeconds": 1, "socketMode": "0600",
        ]))
        #expect(try await daemon.stop() == 0)
    }
}
