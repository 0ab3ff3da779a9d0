import EventLog
public import Foundation
public import QSMEvents
import SwiftProtobuf
import Synchronization

/// What a decider sees and produces for one command: the time of its batch, its caller, and the events
/// it emits. The events are folded into the state before the next command of the batch is decided.
public struct Decision: Sendable {
    /// The batch's time, in microseconds: every event of the batch is recorded with it.
    public let now: Int64
    /// Who called.
    public let caller: Caller
    /// Ties together the events of this command.
    public let correlationID: Data
    /// The events emitted so far, with their actors.
    public private(set) var events: [(body: QSMEvent.OneOf_Body, actor: String)] = []

    init(now: Int64, caller: Caller) {
        self.now = now
        self.caller = caller
        // Not UUID(): Foundation opens and closes /dev/urandom for each one.
        correlationID = BrokerCrypto.randomID()
    }

    /// Emits an event about `actor`.
    public mutating func emit(_ body: QSMEvent.OneOf_Body, actor: String) {
        events.append((body, actor))
    }
}

/// A command waiting for the writer: decided in order, answered after its batch is durable.
protocol PipelineCommand: AnyObject, Sendable {
    var caller: Caller { get }
    /// Decides against `state` (which includes the effects of earlier commands of the batch).
    func decide(_ state: BrokerState, _ decision: inout Decision)
    /// Answers the caller: with the decided outcome, or with `failure` when the batch did not commit.
    func finish(failure: BrokerError?)
}

/// A command whose decider returns `Result`.
final class PendingCommand<Output: Sendable>: PipelineCommand, @unchecked Sendable {
    let caller: Caller
    private let decider: @Sendable (BrokerState, inout Decision) -> Result<Output, BrokerError>
    private let continuation: CheckedContinuation<Result<Output, BrokerError>, Never>
    // Written by `decide` and read by `finish`, both on the pipeline's loop, one after the other.
    private var outcome: Result<Output, BrokerError>?

    init(
        caller: Caller, decider: @escaping @Sendable (BrokerState, inout Decision) -> Result<Output, BrokerError>,
        continuation: CheckedContinuation<Result<Output, BrokerError>, Never>
    ) {
        self.caller = caller
        self.decider = decider
        self.continuation = continuation
    }

    func decide(_ state: BrokerState, _ decision: inout Decision) {
        outcome = decider(state, &decision)
    }

    func finish(failure: BrokerError?) {
        if let failure {
            continuation.resume(returning: .failure(failure))
        } else {
            continuation.resume(returning: outcome ?? .failure(.unavailable("command was not decided")))
        }
    }
}
