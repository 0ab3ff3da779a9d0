import Broker
import EventLog
import Foundation
import QSMTesting
import Synchronization

/// A clock tests move by hand, in microseconds.
final class TestClock: Sendable {
    private let now = Mutex<Int64>(1_800_000_000_000_000)

    var micros: Int64 { now.withLock { $0 } }

    func advance(seconds: Double) {
        now.withLock { $0 += Int64(seconds * 1_000_000) }
    }
}

/// A broker in a temporary data directory with cheap password hashing and a hand-moved clock.
struct TestBroker {
    let directory: TemporaryDirectory
    let clock: TestClock
    var broker: Broker
    let configuration: BrokerConfiguration

    /// `configure` changes the configuration last (after the test defaults below).
    init(
        rules: IDSRules = IDSRules(), snapshotEvery: UInt64 = 100_000, directory: TemporaryDirectory? = nil,
        configure: (inout BrokerConfiguration) -> Void = { _ in }
    ) throws {
        let directory = try directory ?? TemporaryDirectory(prefix: "qsm-broker")
        let clock = TestClock()
        var configuration = BrokerConfiguration(dataDirectory: directory.path)
        configuration.passwordMemoryKiB = 8
        configuration.passwordIterations = 1
        configuration.allowCheapPasswordHashingForTests = true
        configuration.rules = rules
        configuration.snapshotEvery = snapshotEvery
        configuration.defaultQubits = 40_000
        configuration.topUpQubits = 40_000
        configuration.clock = { clock.micros }
        configure(&configuration)
        self.directory = directory
        self.clock = clock
        self.configuration = configuration
        broker = try Broker(configuration: configuration)
    }

    /// Closes and opens the broker again on the same directory (snapshot plus tail).
    mutating func restart() async throws {
        await broker.close()
        broker = try Broker(configuration: configuration)
    }
}

/// Socket peers for tests: each caller a different uid.
enum Peers {
    static func user(_ uid: UInt32) -> Caller { Caller(peer: PeerCredentials(uid: uid, gid: uid, pid: Int32(uid) + 10_000)) }
    static let alice = user(1001)
    static let bob = user(1002)
    static let carol = user(1003)
    static let admin = Caller(peer: PeerCredentials(uid: 0, gid: 0, pid: 1), isAdmin: true)
}

extension Broker {
    /// Registers and logs in `name` (password: name + "-password"), returning the token.
    func enrol(_ name: String, caller: Caller) async throws -> String {
        _ = try await register(username: name, password: name + "-password", caller: caller)
        return try await login(username: name, password: name + "-password", caller: caller).token
    }
}

/// The outcome of an async throwing call, for tests that expect success or failure depending on an argument.
func outcome<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

/// A counter tasks share (an `Atomic` itself cannot be captured by an escaping closure).
final class SharedCounter: Sendable {
    private let count: Atomic<Int>

    init(_ value: Int = 0) { count = Atomic(value) }

    var value: Int { count.load(ordering: .relaxed) }

    func add(_ amount: Int = 1) { count.add(amount, ordering: .relaxed) }

    func set(_ value: Int) { count.store(value, ordering: .relaxed) }
}
