import Broker
import EventLog
import Foundation
import QSMDaemon
import QSMTesting
import Synchronization
import Varlink

/// Target `varlink-broker`: io.qsm.Broker and io.qsm.Admin as qsmd serves them, against a real broker in a
/// temporary data directory (cheap password hashing, small key exchanges). The first input byte picks the
/// peer (root, the daemon's own uid, or one of two users); the rest is the byte stream of a connection,
/// NUL-separated calls. In frames, `@alice`/`@bob` stand for the two fixture users' session tokens,
/// `%alice`/`%bob` for their names, `$alice`/`$bob` for their passwords and `#msg` for the id of a message
/// from alice to bob, so mutations reach past authentication. Checks: every reply is a well-formed Varlink
/// reply, no call ends in `InternalError` (a refusal must be a declared error), and the log verifies.
public enum VarlinkBrokerFuzzer {
    /// A broker, the interfaces in front of it, and the users whose sessions inputs may name.
    final class Fixture: Sendable {
        let directory: TemporaryDirectory
        let broker: Broker
        let endpoint: VarlinkWire.Endpoint
        let clock = ManualClock()
        let substitutions = Mutex<[(String, String)]>([])
        let generation = Mutex(0)

        init() throws {
            directory = try TemporaryDirectory(prefix: "qsm-fuzz-broker")
            var configuration = BrokerConfiguration(dataDirectory: directory.path)
            configuration.passwordMemoryKiB = 8
            configuration.passwordIterations = 1
            configuration.allowCheapPasswordHashingForTests = true
            configuration.minQubits = 10_000
            configuration.maxQubits = 40_000
            configuration.defaultQubits = 40_000
            configuration.topUpQubits = 40_000
            let clock = self.clock
            configuration.clock = { clock.now.withLock { $0 } }
            broker = try Broker(configuration: configuration)
            let admins = try AdminPolicy(adminGroup: nil)
            endpoint = VarlinkWire.Endpoint(
                configuration: VarlinkServerConfiguration(
                    socketPath: "/nonexistent/fuzz.sock",
                    info: VarlinkServiceInfo(vendor: "qsm", product: "qsmd", version: "fuzz", url: "https://example.invalid")),
                interfaces: [
                    try BrokerInterface.make(broker: broker, description: InterfaceDescriptions.broker, admins: admins),
                    try AdminInterface.make(broker: broker, description: InterfaceDescriptions.admin, admins: admins),
                ])
        }

        /// Registers and logs in a fresh pair of users, and sends one message from the first to the second.
        func enrol() async throws {
            let round = generation.withLock { value in
                value += 1
                return value
            }
            let caller = Self.harnessCaller(round: round)
            var values: [(String, String)] = []
            var tokens: [String] = []
            for name in ["alice", "bob"] {
                let user = "\(name)\(round)", password = "\(name)-password-\(round)"
                _ = try await broker.register(username: user, password: password, caller: caller)
                tokens.append(try await broker.login(username: user, password: password, caller: caller).token)
                values += [("@\(name)", tokens.last!), ("%\(name)", user), ("$\(name)", password)]
            }
            // The send's key exchange may abort on a noisy sample, as BB84 should now and then: try again.
            var sent: SendResult?
            for _ in 0..<5 where sent == nil {
                sent = try? await broker.send(token: tokens[0], to: "bob\(round)", body: Data("hello".utf8), mode: "aes", caller: caller)
            }
            values.append(("#msg", sent?.messageID ?? "no-message"))
            substitutions.withLock { $0 = values }
        }

        /// The harness's own caller for a round of users: a uid of its own per round, so the per-source
        /// registration and login limits (docs/ids.md) that the fuzzed calls may trip never refuse the
        /// harness, which is not what is being fuzzed.
        static func harnessCaller(round: Int) -> Caller {
            let uid = UInt32(20_000 + round % 40_000)
            return Caller(peer: EventLog.PeerCredentials(uid: uid, gid: uid, pid: 4242))
        }

        /// Logs the current users in again, or enrols new ones when either login fails.
        func renewSessions() async throws {
            let values = substitutions.withLock { $0 }
            let lookup = Dictionary(values, uniquingKeysWith: { first, _ in first })
            let caller = Self.harnessCaller(round: generation.withLock { $0 })
            var renewed = values
            for name in ["alice", "bob"] {
                guard let user = lookup["%\(name)"], let password = lookup["$\(name)"],
                    let login = try? await broker.login(username: user, password: password, caller: caller),
                    let index = renewed.firstIndex(where: { $0.0 == "@\(name)" })
                else { return try await enrol() }
                renewed[index].1 = login.token
            }
            substitutions.withLock { $0 = renewed }
        }
    }

    /// The broker's clock, in microseconds: 0.1 s further for each input.
    final class ManualClock: Sendable {
        let now = Mutex<Int64>(1_800_000_000_000_000)
    }

    static let state = Mutex<(fixture: Fixture?, runs: Int, renewUsers: Bool)>((nil, 0, false))

    /// The fixture for the next input: a new broker (and users) every 500 inputs, so the log that
    /// `Rebuild` and `ReadEvents` walk stays short; new sessions after an input that may have ended them
    /// (`endsSessions`, for the next input), by logging in again: new users, whose first message costs a
    /// key exchange, only when that fails (a changed password, a locked account).
    static func fixture(endsSessions: Bool) -> Fixture {
        let (current, runs, renewUsers) = state.withLock { value in
            value.runs += 1
            defer { value.renewUsers = endsSessions }
            return (value.fixture, value.runs, value.renewUsers)
        }
        if let current, runs % 500 != 0 {
            if renewUsers { runBlocking { try! await current.renewSessions() } }
            return current
        }
        let fresh = runBlocking {
            if let current { await current.broker.close() }
            let fixture = try! Fixture()
            try! await fixture.enrol()
            return fixture
        }
        state.withLock { $0.fixture = fresh }
        return fresh
    }

    static let peers: [Varlink.PeerCredentials] = [
        Varlink.PeerCredentials(pid: 1, uid: 0, gid: 0),
        Varlink.PeerCredentials(pid: 4242, uid: 1001, gid: 1001),
        Varlink.PeerCredentials(pid: 4343, uid: 1002, gid: 1002),
        Varlink.PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid()),
    ]

    /// `QSM_FUZZ_TRACE=1` prints every reply (to see what a corpus file reaches).
    static let trace = ProcessInfo.processInfo.environment["QSM_FUZZ_TRACE"] == "1"

    /// Runs one input.
    public static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        let peer = peers[Int(input.byte() & 3)]
        let stream = input.rest()
        let text = String(decoding: stream, as: UTF8.self)
        let fixture = fixture(endsSessions: text.contains("Logout") || text.contains("ChangePassword"))
        fixture.clock.now.withLock { $0 += 100_000 }
        let substitutions = fixture.substitutions.withLock { $0 }
        let frames = VarlinkFrameFuzzer.referenceFrames(stream, limit: 1 << 20).prefix(8).map { frame in
            guard case .message(let bytes) = frame else { return frame }
            return .message(substitute(bytes, substitutions))
        }
        let outcomes = runBlocking { [frames] in
            var outcomes: [(VarlinkWire.Frame, [[UInt8]], Bool)] = []
            for frame in frames {
                // Watch methods stream until the connection closes; here nothing would close it.
                if case .message(let bytes) = frame, String(decoding: bytes, as: UTF8.self).contains("Watch") { continue }
                let (replies, close) = await fixture.endpoint.handle(frame, peer: peer)
                outcomes.append((frame, replies, close))
                if close { break }
            }
            return outcomes
        }
        for (_, replies, _) in outcomes {
            for reply in replies {
                if trace { print(String(decoding: reply.dropLast(), as: UTF8.self)) }
                guard case .success(.object(let members)) = VarlinkWire.parseJSON(Array(reply.dropLast()), maxDepth: Int.max)
                else {
                    FuzzTargets.check(false, "a reply is not a JSON object")
                    return
                }
                FuzzTargets.check(
                    members["error"] != JSONValue.string("org.varlink.server.InternalError"),
                    "a call failed with InternalError: \(String(decoding: reply.dropLast(), as: UTF8.self))")
            }
        }
        if state.withLock({ $0.runs }) % 1_000 == 0 {
            let report = runBlocking { try? await fixture.broker.verifyChain(caller: .local) }
            FuzzTargets.check(report?.isValid == true, "the log does not verify")
        }
    }

    /// `bytes` with each placeholder replaced by its value, in one pass: a placeholder starts with one of
    /// four sigils, so most bytes are copied after a single comparison.
    static func substitute(_ bytes: [UInt8], _ substitutions: [(String, String)]) -> [UInt8] {
        let rules = substitutions.map { (Array($0.0.utf8), Array($0.1.utf8)) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        scan: while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "@") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "$") || byte == UInt8(ascii: "#") {
                for (pattern, replacement) in rules
                where bytes.count - index >= pattern.count && bytes[index..<index + pattern.count].elementsEqual(pattern) {
                    out += replacement
                    index += pattern.count
                    continue scan
                }
            }
            out.append(byte)
            index += 1
        }
        return out
    }
}
