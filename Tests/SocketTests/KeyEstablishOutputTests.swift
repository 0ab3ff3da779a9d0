import Foundation
import QSMTesting
import Testing

/// `qsm key establish` reports an aborted exchange in the units of a completed one, names the alert it
/// raises, and gives JSON for both with --json (issue 18 item 8: it printed raw fractions, no alert, and
/// nothing at all on standard output with --json).
@Suite("qsm key establish: output")
struct KeyEstablishOutputTests {
    @Test func anAbortedExchangeSpeaksPercentagesNamesTheAlertAndHasJSON() async throws {
        let daemon = try await Daemon(settings: cheapSettings())
        let home = daemon.directory.appending("alice")
        _ = try await registerAndLogin("bob", socket: daemon.socket)
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)

        let (status, output, stderr) = try await daemon.qsm(["key", "establish", "bob", "--qubits", "50000", "--eavesdrop", "1"], home: home)
        #expect(status == 1 && output.isEmpty)
        let line = try #require(stderr.split(separator: "\n").first.map(String.init))
        #expect(stderr.split(separator: "\n").count == 1, "\(stderr)")
        #expect(line.wholeMatch(of: /qsm: key exchange with bob aborted, possible eavesdropper: QBER \d+\.\d\d% \(upper bound \d+\.\d\d%, abort above 11%\); no key was stored, and a qkd_abort alert was raised/) != nil, "\(line)")

        let (jsonStatus, json, jsonError) = try await daemon.qsm(
            ["key", "establish", "bob", "--qubits", "50000", "--eavesdrop", "1", "--json"], home: home)
        #expect(jsonStatus == 1 && jsonError.isEmpty, "\(jsonError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect(object["aborted"] as? Bool == true && object["alert"] as? String == "qkd_abort")
        let qber = try #require(object["qber"] as? Double)
        let threshold = try #require(object["threshold"] as? Double)
        #expect(threshold == 0.11 && qber > threshold && qber < 1, "\(object)")

        let (okStatus, okJSON, _) = try await daemon.qsm(["key", "establish", "bob", "--qubits", "50000", "--json"], home: home)
        #expect(okStatus == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(okJSON.utf8)) as? [String: Any])?["exchange"] != nil)
        #expect(try await daemon.stop() == 0)
    }
}
