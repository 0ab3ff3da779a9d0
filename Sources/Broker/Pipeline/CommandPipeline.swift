import EventLog
import Foundation
import QSMEvents
import Synchronization
import SwiftProtobuf

/// The broker's write path: takes every command waiting, decides them in order against the state their
/// predecessors produced, appends all their events (and the alerts the intrusion detection derives from
/// them) in one durable transaction, and only then answers the callers.
///
/// The state is folded forward as each command is decided, before the commit; if the commit fails the
/// state is reloaded from the log, so it never holds an event the log does not.
final class CommandPipeline: Sendable {
    private struct Queue {
        var commands: [any PipelineCommand] = []
        var waiter: CheckedContinuation<Void, Never>?
        var stopping = false
        /// Set by the checkpoint timer: run the loop once even with nothing queued.
        var tick = false
    }

    let store: EventStore
    let state: Mutex<BrokerState>
    private let queue = Mutex(Queue())
    private let configuration: BrokerConfiguration
    private let lastSnapshot: Mutex<UInt64>
    private let loopDone = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let finished = Mutex(false)
    /// Batches and commands decided so far: commands / batches is the group-commit factor.
    let counters = Mutex(PipelineCounters())
    /// Heads after each commit, for watchers.
    let changes = ChangeFeed()
    private let checkpointer: Checkpointer

    init(store: EventStore, state: BrokerState, configuration: BrokerConfiguration, checkpointer: Checkpointer) {
        self.store = store
        self.state = Mutex(state)
        self.configuration = configuration
        self.checkpointer = checkpointer
        lastSnapshot = Mutex(state.position)
        Task.detached { [self] in await run() }
        if configuration.checkpointIntervalSeconds > 0 {
            Task.detached { [self] in await tickForCheckpoints() }
        }
    }

    /// Wakes an idle loop now and then, so a quiet log still gets its checkpoint by time.
    private func tickForCheckpoints() async {
        let period = Duration.seconds(min(configuration.checkpointIntervalSeconds, 5))
        while true {
            try? await Task.sleep(for: period)
            let stopping = queue.withLock { queue -> Bool in
                if queue.stopping { return true }
                queue.tick = true
                if let waiter = queue.waiter {
                    queue.waiter = nil
                    waiter.resume()
                }
                return false
            }
            if stopping { return }
        }
    }

    /// Decides `decider` in turn and returns its outcome once its events are durable.
    func submit<Output: Sendable>(
        _ caller: Caller, _ decider: @escaping @Sendable (BrokerState, inout Decision) -> Result<Output, BrokerError>
    ) async -> Result<Output, BrokerError> {
        await withCheckedContinuation { continuation in
            let command = PendingCommand(caller: caller, decider: decider, continuation: continuation)
            let refused = queue.withLock { queue -> Bool in
                if queue.stopping { return true }
                queue.commands.append(command)
                if let waiter = queue.waiter {
                    queue.waiter = nil
                    waiter.resume()
                }
                return false
            }
            if refused { command.finish(failure: .unavailable("the broker is shutting down")) }
        }
    }

    /// Answers what is queued, saves a snapshot and stops the loop.
    func stop() async {
        let alreadyFinished = finished.withLock { $0 }
        if alreadyFinished { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loopDone.withLock { $0 = continuation }
            queue.withLock { queue in
                queue.stopping = true
                if let waiter = queue.waiter {
                    queue.waiter = nil
                    waiter.resume()
                }
            }
        }
    }

    /// Whatever is queued now, without waiting.
    private func takeQueued() -> [any PipelineCommand] {
        queue.withLock { queue in
            defer { queue.commands.removeAll(keepingCapacity: true) }
            return queue.commands
        }
    }

    private func nextBatch() async -> [any PipelineCommand]? {
        while true {
            enum Next { case batch([any PipelineCommand]), stop, wait }
            let next = queue.withLock { queue -> Next in
                if !queue.commands.isEmpty {
                    let batch = queue.commands
                    queue.commands.removeAll(keepingCapacity: true)
                    queue.tick = false
                    return .batch(batch)
                }
                if queue.stopping { return .stop }
                if queue.tick {
                    queue.tick = false
                    return .batch([])
                }
                return .wait
            }
            switch next {
            case .batch(let batch): return batch
            case .stop: return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = queue.withLock { queue -> Bool in
                        if !queue.commands.isEmpty || queue.stopping || queue.tick { return true }
                        queue.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private func run() async {
        var lastBatchSize = 0
        while var batch = await nextBatch() {
            // The callers answered by the last commit are coming back with their next command: wait a
            // moment (at most 200 µs) for as many as that batch held, so they share one fsync instead of
            // trickling into many small commits. A lone caller never waits.
            if batch.count < lastBatchSize {
                let deadline = ContinuousClock.now + .microseconds(200)
                while batch.count < lastBatchSize, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .microseconds(50))
                    batch += takeQueued()
                }
            }
            lastBatchSize = batch.count
            await process(batch)
        }
        // A last checkpoint, so what a witness saw covers everything this process wrote.
        await process([], forceCheckpoint: true)
        try? saveSnapshot()
        changes.finish()
        finished.withLock { $0 = true }
        loopDone.withLock { continuation in
            continuation?.resume()
            continuation = nil
        }
    }

    private func process(_ batch: [any PipelineCommand], forceCheckpoint: Bool = false) async {
        let (durableHead, now) = state.withLock { ($0.position, max(configuration.clock(), $0.lastRecordedAt)) }
        var checkpoint: QSMEvent.OneOf_Body?
        if checkpointer.isDue(head: durableHead, now: now, force: forceCheckpoint) {
            do { checkpoint = try checkpointer.checkpoint(of: durableHead, in: store) } catch {
                // Commands go on; the next batch tries again.
                checkpointer.logFailure(error)
            }
        }
        let (events, expectedHead, foldError) = state.withLock { state in
            var events: [NewEvent] = []
            do {
                if let checkpoint {
                    events.append(try Self.fold(
                        checkpoint, actor: "", decision: Decision(now: now, caller: Caller(peer: nil)), peer: nil,
                        into: &state))
                }
                for command in batch {
                    var decision = Decision(now: now, caller: command.caller)
                    command.decide(state, &decision)
                    for (body, actor) in decision.events {
                        events.append(try Self.fold(
                            body, actor: actor, decision: decision, peer: command.caller.peer, into: &state))
                        for derived in state.ids.takePending() {
                            for body in Self.events(for: derived) {
                                events.append(try Self.fold(
                                    body, actor: derived.subject, decision: decision, peer: nil, into: &state))
                            }
                        }
                    }
                }
            } catch {
                return ([NewEvent](), UInt64(0), Optional(error))
            }
            return (events, state.position, nil)
        }
        if let foldError {
            reload()
            for command in batch { command.finish(failure: .unavailable("an event could not be encoded: \(foldError)")) }
            return
        }
        if !batch.isEmpty {
            counters.withLock {
                $0.batches += 1
                $0.commands += UInt64(batch.count)
            }
        }
        guard !events.isEmpty else {
            for command in batch { command.finish(failure: nil) }
            return
        }
        let commitStarted = ContinuousClock.now
        do {
            let positions = try await store.append(events, recordedAtMicros: now)
            guard positions.last == expectedHead else {
                throw EventLogError.storage(
                    path: store.path, detail: "positions \(positions.first ?? 0)... do not follow the broker's state")
            }
        } catch {
            // The state already holds this batch's events: fold it again from what the log holds.
            reload()
            let failure = error as? EventLogError ?? .storage(path: store.path, detail: "\(error)")
            for command in batch { command.finish(failure: .storage(failure)) }
            return
        }
        if case .checkpointSigned(let signed) = checkpoint {
            checkpointer.committed(signed, eventPosition: durableHead + 1, at: now)
        }
        PipelineMetrics.shared.committed(commands: batch.count, events: events.count, since: commitStarted, state: state)
        for command in batch { command.finish(failure: nil) }
        changes.publish(expectedHead)
        if expectedHead - lastSnapshot.withLock({ $0 }) >= configuration.snapshotEvery { try? saveSnapshot() }
    }

    /// Builds the event at the next position, folds it into `state`, and returns what to append.
    private static func fold(
        _ body: QSMEvent.OneOf_Body, actor: String, decision: Decision, peer: PeerCredentials?,
        into state: inout BrokerState
    ) throws -> NewEvent {
        let new = try NewEvent(body, actor: actor, correlationID: decision.correlationID, peer: peer)
        var event = QSMEvent()
        event.position = state.position + 1
        event.recordedAtUs = decision.now
        event.type = new.type
        event.schemaVersion = new.schemaVersion
        event.actor = actor
        event.correlationID = decision.correlationID
        if let peer {
            event.peer = LogPeer.with {
                $0.uid = peer.uid
                $0.gid = peer.gid
                $0.pid = peer.pid
            }
        }
        event.body = body
        state.evolve(event)
        return new
    }

    /// The events that record a derived alert: the alert, and the lockout it imposes if any.
    static func events(for derived: IDSProjection.Derived) -> [QSMEvent.OneOf_Body] {
        var result: [QSMEvent.OneOf_Body] = [.alertRaised(QSMAlertRaised.with {
            $0.alertID = derived.id
            $0.rule = derived.rule
            $0.severity = QSMSeverity(rawValue: derived.severity) ?? .medium
            $0.subject = derived.subject
            $0.summary = derived.summary
            $0.evidencePositions = derived.evidence
            $0.triggerPosition = derived.trigger
        })]
        if let until = derived.lockUntil {
            result.append(.accountLocked(QSMAccountLocked.with {
                $0.username = derived.subject
                $0.untilUs = until
                $0.rule = derived.rule
                $0.triggerPosition = derived.trigger
                $0.level = derived.level
            }))
        }
        return result
    }

    /// Replaces the state with the log's: snapshot plus tail, or from position 1.
    func reload() {
        if let fresh = try? StateLoader.load(store: store, rules: configuration.rules) {
            state.withLock { $0 = fresh }
        }
    }

    /// Saves the state as a snapshot at the position it reflects.
    func saveSnapshot() throws {
        let (data, position) = try state.withLock { state in (try state.snapshotData(), state.position) }
        guard position > 0 else { return }
        try store.saveSnapshot(Snapshot(position: position, state: data), named: StateLoader.snapshotName)
        lastSnapshot.withLock { $0 = position }
        // Encoding the state builds a tree several times its size; hand the freed pages back to the
        // system, or the daemon's resident memory stays at that peak for good.
        MemoryTrim.trim()
    }
}

/// Commands and batches the pipeline has decided.
struct PipelineCounters: Sendable {
    var batches: UInt64 = 0
    var commands: UInt64 = 0
}
