import Foundation
import QSMEvents
import QSMClient
import QSMTesting
import Testing

/// Ctrl-C during a long `qsm key establish` (issue 18 item 6): the terminal showed nothing for seconds,
/// and the question was whether the exchange still completed on the daemon. qsm now counts the seconds on
/// the terminal, and its end closes the connection, which cancels the exchange before it is recorded.
@Suite("qsm key establish: progress and Ctrl-C")
struct ExchangeCancelTests {
    @Test func ctrlCDuringALongExchangeRecordsNoKeyAndTheDaemonServesOn() async throws {
        // One exchange thread: an exchange asked for later runs only after the long one ends, so once it
        // is answered, the long one is either recorded or gone for good.
        let daemon = try await Daemon(settings: cheapSettings(["exchangeThreads": 1]))
        let home = daemon.directory.appending("alice")
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        _ = try await client.registerAndLogin("bob")
        #expect(try await daemon.qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)
        #expect(try await daemon.qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: home).0 == 0)

        let terminal = try Terminal(
            Products.qsm, ["key", "establish", "bob", "--qubits", "10000000"],
            environment: ["PATH": "/usr/bin:/bin", "QSM_SOCKET": daemon.socket, "QSM_HOME": home, "HOME": home])
        #expect(try await terminal.waitFor("key exchange with bob: 10000000 qubits"), "no progress: \(terminal.output)")
        #expect(terminal.output.contains("Ctrl-C cancels it"))
        kill(terminal.pid, SIGINT)
        #expect(try await terminal.wait() == 130)

        let alice = try await client.login("alice")
        let sentinel = try await client.call(BrokerAPI.EstablishKey(token: alice, peer: "bob"))
        #expect(sentinel.exchange.finalBits > 0, "the daemon serves on")
        let completed = try readLog(daemon.data).events.filter { $0.type == EventType.keyExchangeCompleted.rawValue }
        #expect(completed.count == 1, "only the sentinel's exchange is recorded, not the cancelled one: \(completed.count)")
        #expect(try await daemon.stop() == 0)
    }
}
