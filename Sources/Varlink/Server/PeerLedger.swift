internal import Synchronization

/// What one peer uid holds and what the whole server holds: connections, running calls and streams, and
/// input read but not yet taken by a call. Enforces the limits per uid (issue 16: one local user took every
/// connection slot and, with pipelined megabyte messages, 5 GB of memory) with room kept for others.
///
/// Privileged peers are counted but not limited per uid; they alone may use the reserved connections.
final class PeerLedger: Sendable {
    /// The limits, taken from the configuration with their floors applied.
    struct Limits: Sendable {
        var connections: Int
        var reservedConnections: Int
        var connectionsPerUID: Int
        var callsPerUID: Int
        var streamsPerUID: Int
        var inputBytesPerConnection: Int
        var inputBytesPerUID: Int

        init(_ configuration: VarlinkServerConfiguration) {
            connections = max(configuration.maxConnections, 0)
            reservedConnections = min(max(configuration.reservedConnections, 0), connections)
            connectionsPerUID = max(configuration.maxConnectionsPerUID, 0)
            callsPerUID = max(configuration.maxCallsPerUID, 0)
            streamsPerUID = max(configuration.maxStreamsPerUID, 0)
            inputBytesPerConnection = max(configuration.maxInputBytesPerConnection, configuration.maxFrameSize + 1)
            inputBytesPerUID = max(configuration.maxInputBytesPerUID, inputBytesPerConnection)
        }
    }

    /// Why a connection was not admitted.
    enum Refusal: Equatable, CustomStringConvertible {
        case serverFull
        case reservedForPrivileged
        case uidFull

        var description: String {
            switch self {
            case .serverFull: "maxConnections reached"
            case .reservedForPrivileged: "only privileged peers may use the reserved connections"
            case .uidFull: "maxConnectionsPerUID reached"
            }
        }
    }

    /// A snapshot of one uid's usage (for tests and logs).
    struct Usage: Sendable, Equatable {
        var connections = 0
        var calls = 0
        var streams = 0
        var inputBytes = 0
    }

    private struct UIDState {
        var usage = Usage()
        /// Connections of this uid whose reading is held until input is taken or released.
        var waiting: [ObjectIdentifier: InputGate] = [:]
        var isUnused: Bool { usage == Usage() && waiting.isEmpty }
    }

    private struct State {
        var connections = 0
        var unprivilegedConnections = 0
        var uids: [UInt32: UIDState] = [:]
        /// Input per open gate, by gate; a gate absent here is closed and charges nothing.
        var gates: [ObjectIdentifier: Int] = [:]
    }

    let limits: Limits
    private let state = Mutex(State())

    init(limits: Limits) {
        self.limits = limits
    }

    /// Counts a new connection, or says why it may not be served.
    func admit(uid: UInt32, privileged: Bool) -> Refusal? {
        state.withLock { state in
            guard state.connections < limits.connections else { return .serverFull }
            if !privileged {
                guard state.unprivilegedConnections < limits.connections - limits.reservedConnections else {
                    return .reservedForPrivileged
                }
                guard state.uids[uid, default: UIDState()].usage.connections < limits.connectionsPerUID else {
                    return .uidFull
                }
                state.unprivilegedConnections += 1
            }
            state.connections += 1
            state.uids[uid, default: UIDState()].usage.connections += 1
            return nil
        }
    }

    /// Uncounts a connection that ``admit(uid:privileged:)`` counted.
    func leave(uid: UInt32, privileged: Bool) {
        state.withLock { state in
            state.connections -= 1
            if !privileged { state.unprivilegedConnections -= 1 }
            state.uids[uid]?.usage.connections -= 1
            Self.forgetIfUnused(uid, in: &state)
        }
    }

    /// Counts a call starting, or returns the error to answer it with when the uid has too many running.
    /// Calls with `more` count as streams, others as calls.
    func beginCall(uid: UInt32, privileged: Bool, stream: Bool) -> VarlinkError? {
        state.withLock { state in
            var entry = state.uids[uid, default: UIDState()]
            if stream {
                if !privileged && entry.usage.streams >= limits.streamsPerUID {
                    return .tooManyStreams(limit: limits.streamsPerUID)
                }
                entry.usage.streams += 1
            } else {
                if !privileged && entry.usage.calls >= limits.callsPerUID {
                    return .tooManyCalls(limit: limits.callsPerUID)
                }
                entry.usage.calls += 1
            }
            state.uids[uid] = entry
            return nil
        }
    }

    /// Uncounts a call that ``beginCall(uid:privileged:stream:)`` counted.
    func endCall(uid: UInt32, stream: Bool) {
        state.withLock { state in
            if stream { state.uids[uid]?.usage.streams -= 1 } else { state.uids[uid]?.usage.calls -= 1 }
            Self.forgetIfUnused(uid, in: &state)
        }
    }

    /// What `uid` holds now.
    func usage(uid: UInt32) -> Usage { state.withLock { $0.uids[uid]?.usage ?? Usage() } }

    // MARK: - Input, for InputGate

    func open(_ gate: InputGate) {
        state.withLock { $0.gates[ObjectIdentifier(gate)] = 0 }
    }

    func charge(_ gate: InputGate, bytes: Int) {
        state.withLock { state in
            let id = ObjectIdentifier(gate)
            guard let held = state.gates[id] else { return }
            state.gates[id] = held + bytes
            state.uids[gate.uid, default: UIDState()].usage.inputBytes += bytes
        }
    }

    /// Whether `gate`'s connection may read more; when not, the gate is woken once input of its uid is
    /// taken or released.
    func mayRead(_ gate: InputGate) -> Bool {
        state.withLock { state in
            let id = ObjectIdentifier(gate)
            guard let held = state.gates[id] else { return true }
            let uidBytes = state.uids[gate.uid]?.usage.inputBytes ?? 0
            if held < limits.inputBytesPerConnection && (gate.privileged || uidBytes < limits.inputBytesPerUID) {
                return true
            }
            state.uids[gate.uid, default: UIDState()].waiting[id] = gate
            return false
        }
    }

    /// Input of `gate` taken by a call (a message and its NUL).
    func take(_ gate: InputGate, bytes: Int) {
        release(gate, bytes: bytes, closing: false)
    }

    /// The connection of `gate` is gone: its input is released.
    func close(_ gate: InputGate) {
        release(gate, bytes: nil, closing: true)
    }

    private func release(_ gate: InputGate, bytes: Int?, closing: Bool) {
        let woken = state.withLock { state -> [InputGate] in
            let id = ObjectIdentifier(gate)
            guard let held = state.gates[id] else { return [] }
            let released = min(bytes ?? held, held)
            if closing { state.gates[id] = nil } else { state.gates[id] = held - released }
            var entry = state.uids[gate.uid, default: UIDState()]
            entry.usage.inputBytes -= released
            if closing { entry.waiting[id] = nil }
            let woken = Array(entry.waiting.values)
            entry.waiting = [:]
            state.uids[gate.uid] = entry
            Self.forgetIfUnused(gate.uid, in: &state)
            return woken
        }
        for waiting in woken { waiting.wake() }
    }

    private static func forgetIfUnused(_ uid: UInt32, in state: inout State) {
        if state.uids[uid]?.isUnused == true { state.uids[uid] = nil }
    }
}
