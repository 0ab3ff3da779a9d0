import Foundation
import Glibc
import QSMClient
import QSMTesting
import Testing

/// qsmd as a systemd service: its socket handed over by systemd's own `systemd-socket-activate` (the
/// LISTEN_FDS protocol), its readiness, stopping and watchdog pings on a NOTIFY_SOCKET the test binds,
/// and the hand-overs it must refuse with one line and a non-zero status.
@Suite(.serialized)
struct SystemdServiceTests {
    static let activate = "/usr/bin/systemd-socket-activate"

    /// The environment qsmd runs with: the test's, without anything systemd may have set for the test
    /// runner itself, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            environment[name] = nil
        }
        return environment.merging(extra) { $1 }
    }

    static func waitForFile(_ path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: path) {
            guard ContinuousClock.now < deadline else { throw DaemonError("\(path) never appeared") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func servesTheSocketSystemdSocketActivateHandsOver() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-activate")
        let socket = directory.appending("qsmd.sock")
        let notify = try NotifyListener(address: directory.appending("notify"))
        let child = try ChildProcess(
            Self.activate,
            ["--listen", socket, "--fdname=varlink", "--setenv=NOTIFY_SOCKET=\(notify.address)",
             Products.qsmd, "--data", directory.appending("data"), "--socket", directory.appending("unused.sock")],
            environment: Self.environment([:]))
        defer { child.kill() }
        // systemd-socket-activate binds and listens, and starts qsmd (in its own process) on the first
        // connection: this call is what starts it, and it waits in the backlog meanwhile.
        try await Self.waitForFile(socket)
        let connection = try await QSMConnection.connect(socketPath: socket)
        let info = try await connection.call(GetInfo(), within: .seconds(20))
        await connection.close()
        #expect(info.product == "qsmd")
        #expect(info.interfaces.contains("io.qsm.Broker"))

        let ready = try #require(notify.receive("READY=1", timeout: .seconds(20)), "no READY=1: \(child.standardError)")
        #expect(ready.status?.contains("log position") == true)
        #expect(
            !FileManager.default.fileExists(atPath: directory.appending("unused.sock")),
            "--socket is not bound when a socket is inherited")
        #expect(child.standardError.contains("socket=\(socket)"), "the ready line names the inherited socket")

        child.kill(SIGTERM)
        #expect(notify.receive("STOPPING=1", timeout: .seconds(20)) != nil)
        #expect(try await child.wait() == 0, "\(child.standardError)")
        // The socket belongs to whoever bound it (systemd keeps listening for the next start).
        #expect(FileManager.default.fileExists(atPath: socket))
    }

    /// qsmd-gateway.socket's socket, named gateway: served with io.qsm.Broker only, as --gateway-socket is.
    @Test func servesTheGatewaySocketHandedOverByName() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-activate-gw")
        let socket = directory.appending("qsmd.sock")
        let gateway = directory.appending("gateway.sock")
        let child = try ChildProcess(
            Self.activate,
            ["--listen", socket, "--listen", gateway, "--fdname=varlink:gateway",
             Products.qsmd, "--data", directory.appending("data"), "--gateway-socket", directory.appending("unused-gw.sock")],
            environment: Self.environment([:]))
        defer { child.kill() }
        try await Self.waitForFile(gateway)
        let viaGateway = try await QSMConnection.connect(socketPath: gateway)
        let info = try await viaGateway.call(GetInfo(), within: .seconds(20))
        #expect(info.interfaces.contains("io.qsm.Broker"), "\(child.standardError)")
        #expect(!info.interfaces.contains("io.qsm.Admin"), "no Admin on the gateway")
        await #expect(throws: QSMClientError.self, "an Admin call on the gateway is refused") {
            try await viaGateway.call(AdminAPI.Stats(), within: .seconds(20))
        }
        await viaGateway.close()
        let mainSocket = try await QSMConnection.connect(socketPath: socket)
        let main = try await mainSocket.call(GetInfo(), within: .seconds(20))
        await mainSocket.close()
        #expect(main.interfaces.contains("io.qsm.Admin"), "the main socket serves Admin")
        #expect(
            !FileManager.default.fileExists(atPath: directory.appending("unused-gw.sock")),
            "--gateway-socket is not bound when the gateway socket is inherited")
        child.kill(SIGTERM)
        #expect(try await child.wait() == 0, "\(child.standardError)")
    }

    @Test func tellsAnAbstractNotifySocketWhenReadyAndWhenStopping() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-notify")
        let socket = directory.appending("qsm.sock")
        let notify = try NotifyListener(address: "@qsm-test-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let child = try ChildProcess(
            Products.qsmd, ["--data", directory.appending("data"), "--socket", socket],
            environment: Self.environment(["NOTIFY_SOCKET": notify.address]))
        defer { child.kill() }
        let ready = try #require(notify.receive("READY=1", timeout: .seconds(20)), "no READY=1: \(child.standardError)")
        // READY=1 comes once the socket serves: a client may connect the moment systemd says started.
        #expect(Daemon.answers(socket))
        #expect(ready.status == "Serving at log position 0")
        #expect(notify.receive(timeout: .milliseconds(300)) == nil, "nothing but READY=1 without WATCHDOG_USEC")

        child.kill(SIGTERM)
        let stopping = try #require(notify.receive("STOPPING=1", timeout: .seconds(20)))
        #expect(!stopping.has("READY=1"))
        #expect(try await child.wait() == 0, "\(child.standardError)")
    }

    @Test func pingsTheWatchdogAtHalfOfWatchdogUsec() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-watchdog")
        let notify = try NotifyListener(address: directory.appending("notify"))
        let child = try ChildProcess(
            Products.qsmd, ["--data", directory.appending("data"), "--socket", directory.appending("qsm.sock")],
            environment: Self.environment([
                "NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "\(0)",
            ]))
        defer { child.kill() }
        // WATCHDOG_PID names another process: the watchdog is not qsmd's, so no pings.
        #expect(notify.receive("READY=1", timeout: .seconds(20)) != nil, "\(child.standardError)")
        #expect(notify.receive("WATCHDOG=1", timeout: .seconds(1)) == nil)
        child.kill(SIGTERM)
        #expect(try await child.wait() == 0)

        let pinged = try ChildProcess(
            Products.qsmd, ["--data", directory.appending("data"), "--socket", directory.appending("qsm.sock")],
            environment: Self.environment(["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "400000"]))
        defer { pinged.kill() }
        #expect(notify.receive("READY=1", timeout: .seconds(20)) != nil, "\(pinged.standardError)")
        var pings: [NotifyListener.Message] = []
        while pings.count < 8, let ping = notify.receive("WATCHDOG=1", timeout: .seconds(5)) { pings.append(ping) }
        #expect(pings.count == 8)
        #expect(pings.allSatisfy { $0.status?.hasPrefix("Serving at log position") == true })
        // Asked for every 400 ms, qsmd pings every 200 ms: the mean gap must sit well inside (0, 400 ms),
        // even on a loaded machine where single gaps stretch.
        let gaps = zip(pings.dropFirst(), pings).map { $0.received - $1.received }
        let mean = gaps.reduce(Duration.zero, +) / gaps.count
        #expect(mean > .milliseconds(150) && mean < .milliseconds(300), "mean gap \(mean)")
        pinged.kill(SIGTERM)
        #expect(try await pinged.wait() == 0)
    }

    /// Runs qsmd as a service manager might, expecting it to refuse: one line on standard error, the
    /// `status`, and no data directory created.
    func expectRefusal(
        _ executable: String, _ arguments: [String], environment: [String: String], status: Int32, saying words: String,
        data: String, trigger: (() throws -> Void)? = nil
    ) async throws {
        let child = try ChildProcess(executable, arguments, environment: Self.environment(environment))
        try trigger?()
        // A qsmd that does not refuse would serve on: it is stopped after a while, and fails the status.
        let stopper = Task {
            try await Task.sleep(for: .seconds(20))
            child.kill()
        }
        defer { stopper.cancel() }
        #expect(try await child.wait() == status, "\(child.standardError)")
        // systemd-socket-activate's own lines (where it starts qsmd) are not qsmd's.
        let ours = ["Listening on ", "Communication attempt on fd ", "Execing "]
        let lines = child.standardError.split(separator: "\n").filter { line in !ours.contains { line.hasPrefix($0) } }
        #expect(lines.count == 1, "one line, not: \(child.standardError)")
        #expect(child.standardError.contains(words), "\(child.standardError)")
        #expect(!FileManager.default.fileExists(atPath: data), "a refused start creates nothing")
    }

    @Test func refusesSocketsMeantForAnotherProcess() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-listenpid")
        let data = directory.appending("data")
        try await expectRefusal(
            Products.qsmd, ["--data", data], environment: ["LISTEN_FDS": "1", "LISTEN_PID": "1"], status: 78,
            saying: "LISTEN_PID=1 names another process", data: data)
    }

    @Test func refusesADatagramSocket() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-dgram")
        let data = directory.appending("data")
        let socket = directory.appending("qsmd.sock")
        try await expectRefusal(
            Self.activate, ["--datagram", "--listen", socket, Products.qsmd, "--data", data], environment: [:],
            status: 78, saying: "is a datagram socket, not a listening Unix stream socket", data: data
        ) {
            // systemd-socket-activate starts qsmd when the first datagram arrives.
            let deadline = ContinuousClock.now + .seconds(30)
            while !FileManager.default.fileExists(atPath: socket), ContinuousClock.now < deadline { usleep(10_000) }
            let sender = try NotifySender(path: socket)
            sender.send("wake up")
        }
    }

    /// A socket named for nothing qsmd serves.
    @Test(arguments: [
        ("qsmd.socket", "socket named qsmd.socket is not one qsmd serves"),
    ])
    func refusesASocketItWouldNotServe(name: String, words: String) async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-fdname")
        let data = directory.appending("data")
        let socket = directory.appending("qsmd.sock")
        try await expectRefusal(
            Self.activate, ["--listen", socket, "--fdname=\(name)", Products.qsmd, "--data", data], environment: [:],
            status: 78, saying: words, data: data
        ) {
            let deadline = ContinuousClock.now + .seconds(30)
            while !FileManager.default.fileExists(atPath: socket), ContinuousClock.now < deadline { usleep(10_000) }
            // The connection starts qsmd; it is refused with the listening socket's closing.
            let fd = socket_(socket)
            if fd >= 0 { close(fd) }
        }
    }

    @Test func refusesANotifySocketThatIsNotThere() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-nonotify")
        let data = directory.appending("data")
        try await expectRefusal(
            Products.qsmd, ["--data", data, "--socket", directory.appending("qsm.sock")],
            environment: ["NOTIFY_SOCKET": directory.appending("missing/notify")], status: 69,
            saying: "NOTIFY_SOCKET=\(directory.appending("missing/notify")) cannot be reached", data: data)
    }

    @Test func refusesAMissingDataDirectoryWhenToldItMustExist() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-nodata")
        let data = directory.appending("data")
        try await expectRefusal(
            Products.qsmd, ["--data", data, "--socket", directory.appending("qsm.sock"), "--require-data-directory"],
            environment: [:], status: 66, saying: "The data directory \(data) is missing", data: data)
    }
}

/// Sends datagrams to a socket path.
struct NotifySender {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw DaemonError("cannot connect to \(path): errno \(errno)") }
    }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
    }
}
