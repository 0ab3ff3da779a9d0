public import Broker
import Foundation
public import Varlink

/// qsmd's configuration file: JSON, every field optional (docs/qsmd.md).
public struct DaemonSettings: Decodable {
    public var adminGroup: String?
    var rulesFile: String?
    var sessionLifetimeSeconds: Int64?
    var passwordMemoryKiB: UInt32?
    var passwordIterations: UInt32?
    var snapshotEvery: UInt64?
    /// Whether the writer pipelines deciding and committing (docs/performance.md).
    var pipelinedCommit: Bool?
    /// The LMDB map's size at start, bytes (it grows when full).
    var initialMapBytes: Int?
    /// Key exchanges simulating at once; qubits per user per window (0: no budget), and the window.
    var exchangeThreads: Int?
    var qubitBudget: Int?
    var qubitBudgetWindowSeconds: Int64?
    var checkpointEvery: UInt64?
    var checkpointIntervalSeconds: Int64?
    /// A file outside the data directory receiving every signed checkpoint (--witness overrides it).
    public var witnessFile: String?
    var maxFrameBytes: Int?
    var maxConnections: Int?
    /// Limits per peer uid, administrators excepted (docs/qsmd.md).
    var reservedConnections: Int?
    var maxConnectionsPerUID: Int?
    var maxCallsPerUID: Int?
    var maxStreamsPerUID: Int?
    var maxInputBytesPerConnection: Int?
    var maxInputBytesPerUID: Int?
    var idleTimeoutSeconds: Int?
    /// The socket file's mode, in octal (default "0660").
    var socketMode: String?
    /// Test installations only: Argon2id below OWASP's floor.
    var allowCheapPasswordHashingForTests: Bool?
    var rules: IDSRules?

    /// Reads `file` (nil: every default).
    public init(file: String?) throws {
        guard let file else { return }
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        self = try JSONDecoder().decode(DaemonSettings.self, from: data)
        if let rulesFile { rules = try IDSRules(file: rulesFile) }
        if let checkpointIntervalSeconds, checkpointIntervalSeconds < 0 {
            throw SettingsError(description: "checkpointIntervalSeconds must be 0 (off) or more")
        }
        let counts: [(String, Int?)] = [
            ("maxFrameBytes", maxFrameBytes), ("maxConnections", maxConnections),
            ("reservedConnections", reservedConnections), ("maxConnectionsPerUID", maxConnectionsPerUID),
            ("maxCallsPerUID", maxCallsPerUID), ("maxStreamsPerUID", maxStreamsPerUID),
            ("maxInputBytesPerConnection", maxInputBytesPerConnection), ("maxInputBytesPerUID", maxInputBytesPerUID),
        ]
        for case (let name, let value?) in counts where value < 0 {
            throw SettingsError(description: "\(name) must be 0 or more, not \(value)")
        }
        if let exchangeThreads, !(1...64).contains(exchangeThreads) {
            throw SettingsError(description: "exchangeThreads must be 1 to 64, not \(exchangeThreads)")
        }
        if let qubitBudget, qubitBudget < 0 {
            throw SettingsError(description: "qubitBudget must be 0 (no budget) or more, not \(qubitBudget)")
        }
        if let qubitBudgetWindowSeconds, qubitBudgetWindowSeconds < 1 {
            throw SettingsError(description: "qubitBudgetWindowSeconds must be 1 or more, not \(qubitBudgetWindowSeconds)")
        }
        if let socketMode, UInt32(socketMode, radix: 8) == nil {
            throw SettingsError(description: "socketMode must be an octal mode such as \"0660\", not \(socketMode)")
        }
    }

    /// Sets the broker configuration's fields that the file names.
    public func apply(to configuration: inout BrokerConfiguration) {
        if let sessionLifetimeSeconds { configuration.sessionLifetimeSeconds = sessionLifetimeSeconds }
        if let passwordMemoryKiB { configuration.passwordMemoryKiB = passwordMemoryKiB }
        if let passwordIterations { configuration.passwordIterations = passwordIterations }
        if let snapshotEvery { configuration.snapshotEvery = snapshotEvery }
        if let pipelinedCommit { configuration.pipelinedCommit = pipelinedCommit }
        if let initialMapBytes { configuration.initialMapBytes = initialMapBytes }
        if let exchangeThreads { configuration.exchangeThreads = exchangeThreads }
        if let qubitBudget { configuration.qubitBudget = qubitBudget }
        if let qubitBudgetWindowSeconds { configuration.qubitBudgetWindowSeconds = qubitBudgetWindowSeconds }
        if let checkpointEvery { configuration.checkpointEvery = checkpointEvery }
        if let checkpointIntervalSeconds { configuration.checkpointIntervalSeconds = checkpointIntervalSeconds }
        if let allowCheapPasswordHashingForTests { configuration.allowCheapPasswordHashingForTests = allowCheapPasswordHashingForTests }
        if let rules { configuration.rules = rules }
    }

    /// Sets the socket configuration's fields that the file names.
    public func apply(to server: inout VarlinkServerConfiguration) {
        if let maxFrameBytes { server.maxFrameSize = maxFrameBytes }
        if let maxConnections { server.maxConnections = maxConnections }
        if let reservedConnections { server.reservedConnections = reservedConnections }
        if let maxConnectionsPerUID { server.maxConnectionsPerUID = maxConnectionsPerUID }
        if let maxCallsPerUID { server.maxCallsPerUID = maxCallsPerUID }
        if let maxStreamsPerUID { server.maxStreamsPerUID = maxStreamsPerUID }
        if let maxInputBytesPerConnection { server.maxInputBytesPerConnection = maxInputBytesPerConnection }
        if let maxInputBytesPerUID { server.maxInputBytesPerUID = maxInputBytesPerUID }
        if let idleTimeoutSeconds { server.idleTimeout = .seconds(idleTimeoutSeconds) }
        if let mode = socketMode.flatMap({ UInt32($0, radix: 8) }) { server.socketMode = mode }
    }
}

/// A configuration file that cannot be used.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
}
