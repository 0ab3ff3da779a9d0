public import EventLog
public import Foundation
public import QSMEvents
import SwiftProtobuf
import Synchronization

/// A command to the broker, as a value, with a pure decider.
///
/// `decide` sees the state its predecessors produced and the decision's context (time, caller,
/// correlation id, and whatever expensive or random work was done before the command was queued, which
/// the command carries). It touches no clock, random generator, lock, disk or cache, so a test can give it
/// events, a command and a context, and compare what it emits: see BrokerTests/DeciderTests.
public protocol BrokerCommand: Sendable {
    /// What the caller gets back once the command's events are durable.
    associatedtype Output: Sendable

    /// Decides against `state`, emitting events into `decision`; a refusal may emit events too (they are
    /// recorded for the intrusion detection).
    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<Output, BrokerError>
}

/// The context and the output of deciding one command: the time of its batch, its caller, its
/// correlation id, and the events it emits (with the sealing they await).
public struct Decision: Sendable {
    /// The batch's time, in microseconds: every event of the command is recorded with it.
    public let now: Int64
    /// Who called.
    public let caller: Caller
    /// Ties together the events of this command.
    public let correlationID: Data
    /// The events emitted so far, with their actors.
    public private(set) var events: [(body: QSMEvent.OneOf_Body, actor: String)] = []
    /// Messages the writer seals after the decision, against the pool bits or nonce it reserved.
    private(set) var seals: [SealRequest] = []
    /// Refusals left out of the log because the caller's source spent its burst ("access_denied:noSession"):
    /// the writer counts them into one refusals_aggregated event per window.
    public private(set) var unrecordedRefusals: [String] = []
    /// Message tables a rebuild replaces with the rows it folded from the log, in the decision's batch.
    public private(set) var tableReplacement: (names: [String], image: TableImage)?

    /// A context for deciding one command.
    /// - Parameters:
    ///   - now: the time, in microseconds since the epoch.
    ///   - caller: who called.
    ///   - correlationID: 16 random bytes (the writer draws them; tests give fixed ones).
    public init(now: Int64, caller: Caller, correlationID: Data) {
        self.now = now
        self.caller = caller
        self.correlationID = correlationID
    }

    /// Emits an event about `actor`.
    public mutating func emit(_ body: QSMEvent.OneOf_Body, actor: String) {
        events.append((body, actor))
    }

    /// Emits a refusal (an AccessDenied or LoginFailed) with the caller's source. Once the source has
    /// spent its burst of recorded refusals of this kind for the window (`IDSRules.refusalBurst`), the
    /// refusal is only counted, for one refusals_aggregated event per window: a flood of bad calls must
    /// not fill the log. `always` records it regardless (it still counts towards the burst): for the
    /// refusals a rule counts towards a lock or throttle (bad passwords, taken usernames), which are
    /// bounded by that lock instead.
    public mutating func refuse(_ body: QSMEvent.OneOf_Body, actor: String, state: BrokerState, always: Bool = false) {
        let source = caller.source.text
        var body = body
        switch body {
        case .accessDenied(var denied):
            denied.source = source
            body = .accessDenied(denied)
        case .loginFailed(var failed):
            failed.source = source
            body = .loginFailed(failed)
        default:
            break
        }
        let kind = IDSProjection.refusalKind(body)
        guard always || state.ids.recordsRefusal(kind, from: source, now: now) else {
            unrecordedRefusals.append(kind)
            return
        }
        emit(body, actor: actor)
    }

    /// Emits a MessageSent whose ciphertext the writer fills in after the decision.
    mutating func emitSealed(_ sent: QSMMessageSent, actor: String, seal: SealRequest.Work, body: Data, context: MessageAAD) {
        seals.append(SealRequest(eventIndex: events.count, body: body, context: context, work: seal, now: now))
        events.append((.messageSent(sent), actor))
    }

    /// Replaces the tables `names` with `image`'s rows in the decision's batch (a rebuild's swap).
    mutating func replaceTables(_ names: [String], with image: TableImage) {
        tableReplacement = (names, image)
    }

    /// Replaces a sealed message's event once the writer sealed it.
    mutating func fill(_ index: Int, with sent: QSMMessageSent) {
        events[index].body = .messageSent(sent)
    }
}

/// A queued command, type-erased for the writer: decided in order, answered after its batch is durable.
protocol BrokerJob: AnyObject, Sendable {
    var caller: Caller { get }
    /// Decides against `state` (which includes the effects of earlier commands of the batch).
    func decide(_ state: BrokerState, _ decision: inout Decision)
    /// The decision could not be carried out (sealing or encoding failed): answer `error` instead.
    func fail(_ error: BrokerError)
    /// Answers the caller: with the decided outcome, or with `failure` when the batch did not commit.
    func finish(failure: BrokerError?)
}

/// A command waiting for its answer, which `answer` gets once, on the writer's committing thread: an
/// async caller resumes its continuation there, and the start's blocking caller signals a semaphore.
final class PendingCommand<Command: BrokerCommand>: BrokerJob, @unchecked Sendable {
    let caller: Caller
    private let command: Command
    private let answer: @Sendable (Result<Command.Output, BrokerError>) -> Void
    // Written by `decide` on the writer's deciding thread and read by `finish` on its committing thread,
    // after the batch was handed over under the writer's lock.
    private var outcome: Result<Command.Output, BrokerError>?

    init(_ command: Command, caller: Caller, answer: @escaping @Sendable (Result<Command.Output, BrokerError>) -> Void) {
        self.command = command
        self.caller = caller
        self.answer = answer
    }

    func decide(_ state: BrokerState, _ decision: inout Decision) {
        outcome = command.decide(state, &decision)
    }

    func fail(_ error: BrokerError) {
        outcome = .failure(error)
    }

    func finish(failure: BrokerError?) {
        answer(failure.map { .failure($0) } ?? outcome ?? .failure(.unavailable("command was not decided")))
    }
}
