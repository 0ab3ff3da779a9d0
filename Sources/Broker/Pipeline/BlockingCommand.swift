import Dispatch

/// A queued command whose submitter blocks its thread until the batch holding it is durable: for the
/// events qsmd must have in the log before it takes any call (Broker's start), where there is no task to
/// suspend. The writer runs on its own threads, so the wait cannot starve it.
final class BlockingCommand<Command: BrokerCommand>: BrokerJob, @unchecked Sendable {
    let caller: Caller
    private let command: Command
    // Written on the writer's deciding and committing threads, read after `done` is signalled.
    private var outcome: Result<Command.Output, BrokerError>?
    private let done = DispatchSemaphore(value: 0)

    init(_ command: Command, caller: Caller) {
        self.command = command
        self.caller = caller
    }

    func decide(_ state: BrokerState, _ decision: inout Decision) {
        outcome = command.decide(state, &decision)
    }

    func fail(_ error: BrokerError) {
        outcome = .failure(error)
    }

    func finish(failure: BrokerError?) {
        if let failure { outcome = .failure(failure) }
        done.signal()
    }

    /// Waits for the answer.
    func wait() -> Result<Command.Output, BrokerError> {
        done.wait()
        return outcome ?? .failure(.unavailable("command was not decided"))
    }
}
