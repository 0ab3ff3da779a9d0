import Foundation
import QSMEvents
import QSMCrypto
import EventLog
import SwiftProtobuf
import Synchronization

/// What a completed key exchange reports (the figures of docs/bb84.md).
public struct KeyExchangeReport: Sendable, Equatable {
    public let keyID: String
    public let peer: String
    public let qubitsSent: UInt64
    public let sifted: UInt64
    public let sampleSize: UInt64
    public let qber: Double
    public let qberUpperBound: Double
    public let leakedBits: UInt64
    public let finalBits: UInt64
    public let efficiency: Double

    init(keyID: String, peer: String, figures: QSMBB84Figures) {
        self.keyID = keyID
        self.peer = peer
        qubitsSent = figures.qubitsSent
        sifted = figures.sifted
        sampleSize = figures.sampleSize
        qber = figures.qber
        qberUpperBound = figures.qberUpperBound
        leakedBits = figures.leakedBits
        finalBits = figures.finalBits
        efficiency = figures.efficiency
    }
}

/// Simulation options of a key exchange; nil takes the configured default.
public struct KeyExchangeOptions: Sendable {
    public var qubits: Int?
    public var noise: Double?
    public var eavesdropper: Double?
    /// The key basis's probability (efficient BB84); nil lets the exchange choose.
    public var basisBias: Double?

    public init(qubits: Int? = nil, noise: Double? = nil, eavesdropper: Double? = nil, basisBias: Double? = nil) {
        self.qubits = qubits
        self.noise = noise
        self.eavesdropper = eavesdropper
        self.basisBias = basisBias
    }
}

extension Broker {
    /// Runs BB84 between the session's user and `peer` and adds the key to their pool. An exchange whose
    /// QBER bound is over the threshold aborts: it is recorded, raises an alert, and stores no key.
    ///
    /// The simulation waits its turn on the exchange pool's threads and is charged to the user's qubit
    /// budget (`qubitBudgetExceeded` when spent); cancelling the calling task drops it from the queue or
    /// stops it between BB84's stages, and nothing is recorded.
    public func establishKey(token: String, peer: String, options: KeyExchangeOptions = KeyExchangeOptions(), caller: Caller)
        async throws(BrokerError) -> KeyExchangeReport
    {
        try Validation.username(peer, parameter: "peer")
        let qubits = options.qubits ?? configuration.defaultQubits
        guard (configuration.minQubits...configuration.maxQubits).contains(qubits) else {
            throw .invalidParameter(
                name: "qubits", reason: "must be \(configuration.minQubits)-\(configuration.maxQubits)")
        }
        let noise = options.noise ?? configuration.defaultNoise
        try Validation.probability(noise, parameter: "noise")
        let eavesdropper = options.eavesdropper ?? 0
        try Validation.probability(eavesdropper, parameter: "eavesdropper")
        if let bias = options.basisBias, !(bias.isFinite && bias >= 0.5 && bias < 1) {
            throw .invalidParameter(name: "basisBias", reason: "must be at least 0.5 and below 1")
        }
        let presented = PresentedToken(token)
        let now = configuration.clock()
        // The simulation runs only for a live session and a real peer; the decider records refusals.
        var outcome: ExchangeOutcome?
        if let user = read({ $0.peekSession(presented, now: now) }), user != peer, read({ $0.users[peer] != nil }) {
            // Charged when admitted, so queued exchanges count too; given back if one never ran.
            let charge = try qubitBudget.charge(user, qubits: qubits, now: now)
            do {
                outcome = try await crypto.runExchange(
                    initiator: user, peer: peer, qubits: qubits, noise: noise, eavesdropper: eavesdropper,
                    basisBias: options.basisBias)
            } catch {
                if error == BrokerCrypto.exchangeNotStarted { qubitBudget.refund(charge) }
                throw error
            }
        }
        return try await submit(EstablishKeyCommand(token: presented, peer: peer, outcome: outcome), caller: caller).get()
    }
}

/// EstablishKey: records the exchange simulated before the command was queued, if the session is still
/// its initiator's; an aborted exchange is recorded and answered as a refusal.
struct EstablishKeyCommand: BrokerCommand {
    let token: PresentedToken
    let peer: String
    let outcome: ExchangeOutcome?

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<KeyExchangeReport, BrokerError> {
        let user: String
        switch state.authenticate(token, method: "EstablishKey", decision: &decision) {
        case .failure(let error): return .failure(error)
        case .success(let name): user = name
        }
        guard user != peer else { return .failure(.invalidParameter(name: "peer", reason: "cannot be yourself")) }
        guard state.users[peer] != nil else { return .failure(.unknownUser(peer)) }
        guard let outcome, outcome.initiator == user else {
            return .failure(.unavailable("the session changed during the exchange: try again"))
        }
        return Self.record(outcome, state: state, decision: &decision)
    }

    /// Emits the completed or aborted exchange.
    static func record(_ outcome: ExchangeOutcome, state: BrokerState, decision: inout Decision)
        -> Result<KeyExchangeReport, BrokerError>
    {
        if let abort = outcome.abort {
            decision.emit(.keyExchangeAborted(QSMKeyExchangeAborted.with {
                $0.exchangeID = outcome.exchangeID
                $0.initiator = outcome.initiator
                $0.peer = outcome.peer
                $0.reason = abort.reason
                $0.detail = abort.detail
                $0.figures = outcome.figures
            }), actor: outcome.initiator)
            return .failure(.keyExchangeAborted(
                reason: abort.detail, qber: outcome.figures.qber, qberUpperBound: outcome.figures.qberUpperBound,
                threshold: outcome.figures.abortThreshold))
        }
        guard let key = outcome.wrappedKey else { return .failure(.unavailable("the exchange produced no key")) }
        let offset = state.keyPools.pool(outcome.initiator, outcome.peer)?.pool.nextSegmentStart ?? 0
        decision.emit(.keyExchangeCompleted(QSMKeyExchangeCompleted.with {
            $0.exchangeID = outcome.exchangeID
            $0.initiator = outcome.initiator
            $0.peer = outcome.peer
            $0.keyID = outcome.keyID
            $0.figures = outcome.figures
            $0.key = key
            $0.poolOffset = offset
        }), actor: outcome.initiator)
        return .success(KeyExchangeReport(keyID: outcome.keyID, peer: outcome.peer, figures: outcome.figures))
    }
}
