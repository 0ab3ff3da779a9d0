import Foundation

/// What the log's writer runs: it decides queued commands into records, then answers them once their
/// batch is durable or has failed.
///
/// The writer calls ``decide(_:into:closing:)`` and ``rollBack(to:)`` on its deciding thread only, one
/// call at a time, so a stage may keep its state without a lock for them; ``answer(_:outcome:)`` runs
/// on the committing thread.
public protocol WriterStage: AnyObject, Sendable {
    /// A queued command (a reference type when the stage writes the outcome into it).
    associatedtype Command: Sendable

    /// Decides `commands`, in order, appending their events to `batch` (which assigns positions and
    /// times). Called with no command when the writer's tick is due and, once, with `closing` true as the
    /// last batch before the writer stops.
    func decide(_ commands: [Command], into batch: inout RecordBatch, closing: Bool)

    /// Answers `commands` once their batch committed (`.success` with the new head) or failed.
    func answer(_ commands: [Command], outcome: Result<Committed, EventLogError>)

    /// A commit failed: whatever the stage folded beyond the durable `head` must go. The commands decided
    /// after the failed batch are decided again against the restored state.
    func rollBack(to head: LogHead)
}

/// A durable batch: the head after it and how long its transaction took.
public struct Committed: Sendable {
    /// The log's head after the batch.
    public let head: LogHead
    /// Records the batch held.
    public let events: Int
    /// From the start of the write transaction to the end of its commit (fsync included).
    public let duration: Duration
}

/// The log's one writer: a pipelined group commit.
///
/// Commands queue here and nowhere else. A deciding thread takes every queued command and decides them
/// into a ``RecordBatch``; a committing thread writes that batch in one LMDB transaction (one fsync) and
/// answers its commands. While one batch is on its way to disk the next is decided, so callers answered
/// by a commit find their next command decided without waiting for the disk. LMDB's write transaction is
/// bound to the committing thread and never meets Swift concurrency.
public final class LogWriter<Stage: WriterStage>: @unchecked Sendable {
    private struct Decided {
        var batch: RecordBatch
        var commands: [Stage.Command]
    }

    private enum Step {
        case decide([Stage.Command])
        case tick
        case handOver
        case close
        case rollBack(LogHead)
        case exit
    }

    private let store: EventStore
    private let stage: Stage
    private let maxEventsPerCommit: Int
    private let tickInterval: Duration?
    private let commitDelay: Duration
    private let pipelined: Bool
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Stage.Command] = []
    private var stopping = false
    private var handoff: Decided?
    private var committing = false
    private var failed = false
    private var durable: LogHead
    /// Commands the last commit carried, and when the committer became free after it.
    private var lastCommitCommands = 0
    private var committerFreeSince = ContinuousClock.now
    private var finished = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private let finishedSemaphore = DispatchSemaphore(value: 0)

    /// Takes `store`'s write side for `stage` and starts the writer's two threads.
    ///
    /// - Parameters:
    ///   - tickInterval: when set, the stage is asked to decide with no command this often while idle
    ///     (for work due by time, such as checkpoints).
    ///   - pipelined: decide the next batch while the previous one commits (true), or decide and commit
    ///     in turn on one thread (false). Pipelining pays when deciding a batch costs about as much as
    ///     committing it (the broker); for plain appends the extra thread hop costs more than it saves
    ///     (docs/performance.md has both measured).
    /// - Throws: `EventLogError.readOnly`, `.closed`, or `.storage` when the log already has a writer.
    public init(store: EventStore, stage: Stage, tickInterval: Duration? = nil, pipelined: Bool = true)
        throws(EventLogError)
    {
        self.store = store
        self.stage = stage
        self.tickInterval = tickInterval
        maxEventsPerCommit = store.options.maxEventsPerCommit
        commitDelay = store.options.commitDelay
        self.pipelined = pipelined
        durable = try store.claimWriter()
        store.attachWriter { [self] in stop() }
        let decider = Thread { [self] in decideLoop() }
        decider.name = "qsm.writer.decide"
        decider.start()
        let committer = Thread { [self] in commitLoop() }
        committer.name = "qsm.writer.commit"
        committer.start()
    }

    /// The path of the log this writer appends to.
    public var storePath: String { store.path }

    /// Queues `command`; false once the writer is stopping (the command was not queued).
    @discardableResult
    public func submit(_ command: Stage.Command) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if stopping { return false }
        queue.append(command)
        condition.broadcast()
        return true
    }

    /// Decides and commits what is queued, runs the closing batch, stops both threads and gives the log
    /// back. Idempotent; blocks the calling thread.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        let done = finished
        condition.unlock()
        if !done {
            finishedSemaphore.wait()
            finishedSemaphore.signal()  // for any other thread waiting in stop()
        }
    }

    /// `stop()` for async callers: suspends instead of blocking a thread of the cooperative pool.
    public func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            stopping = true
            condition.broadcast()
            if finished {
                condition.unlock()
                continuation.resume()
            } else {
                stopWaiters.append(continuation)
                condition.unlock()
            }
        }
    }

    // MARK: Deciding

    private func decideLoop() {
        var pending: Decided?
        var closed = false
        var nextTick = tickInterval.map { Date(timeIntervalSinceNow: $0.seconds) }
        while true {
            switch nextStep(
                hasPending: pending != nil, pendingCount: pending?.batch.count ?? 0,
                pendingCommands: pending?.commands.count ?? 0, closed: closed, nextTick: &nextTick)
            {
            case .decide(let commands):
                decide(commands, into: &pending, closing: false)
            case .tick:
                decide([], into: &pending, closing: false)
            case .close:
                closed = true
                decide([], into: &pending, closing: true)
            case .handOver:
                guard let work = pending else { continue }
                pending = nil
                condition.lock()
                if pipelined {
                    handoff = work
                    condition.broadcast()
                    condition.unlock()
                } else {
                    committing = true
                    condition.unlock()
                    commit(work)
                }
            case .rollBack(let head):
                stage.rollBack(to: head)
                let again = pending?.commands ?? []
                pending = nil
                decidedHead = head
                if !again.isEmpty { decide(again, into: &pending, closing: false) }
            case .exit:
                return
            }
        }
    }

    /// The head after everything decided so far (committed, committing, handed over or pending).
    private var decidedHead: LogHead?

    private func decide(_ commands: [Stage.Command], into pending: inout Decided?, closing: Bool) {
        if pending == nil {
            let base: LogHead
            if let decidedHead {
                base = decidedHead
            } else {
                condition.lock()
                base = durable
                condition.unlock()
            }
            pending = Decided(batch: RecordBatch(after: base), commands: [])
        }
        let started = ContinuousClock.now
        stage.decide(commands, into: &pending!.batch, closing: closing)
        store.noteDecided(since: started)
        pending!.commands += commands
        decidedHead = pending!.batch.head
    }

    private func nextStep(
        hasPending: Bool, pendingCount: Int, pendingCommands: Int, closed: Bool, nextTick: inout Date?
    ) -> Step {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if failed {
                failed = false
                return .rollBack(durable)
            }
            // The committer is free: give it what is decided, and decide what comes meanwhile. The one
            // wait of the write path (PostgreSQL's commit_delay): while the callers the last commit
            // answered are coming back with their next command, hold the batch up to `commitDelay` for
            // as many commands as that commit carried, so they share one fsync. Without it, callers
            // settle into two cohorts that alternate on the disk, each paying an fsync. A lone caller,
            // or a batch already as large, never waits.
            var holdUntil: ContinuousClock.Instant?
            if hasPending && handoff == nil && !committing {
                let deadline = committerFreeSince + commitDelay
                if pendingCommands >= lastCommitCommands || stopping || ContinuousClock.now >= deadline
                    || pendingCount >= maxEventsPerCommit
                {
                    return .handOver
                }
                holdUntil = deadline
            }
            if !queue.isEmpty && pendingCount < maxEventsPerCommit {
                defer { queue.removeAll(keepingCapacity: true) }
                return .decide(queue)
            }
            if let due = nextTick, due <= Date(), !stopping {
                nextTick = tickInterval.map { Date(timeIntervalSinceNow: $0.seconds) }
                return .tick
            }
            if stopping && queue.isEmpty && !hasPending && handoff == nil && !committing {
                if closed {
                    finished = true
                    condition.broadcast()
                    return .exit
                }
                return .close
            }
            if let holdUntil {
                let remaining = holdUntil - ContinuousClock.now
                _ = condition.wait(until: Date(timeIntervalSinceNow: max(remaining.seconds, 0)))
            } else if let due = nextTick, !stopping {
                _ = condition.wait(until: due)
            } else {
                condition.wait()
            }
        }
    }

    // MARK: Committing

    private func commitLoop() {
        while true {
            condition.lock()
            while handoff == nil && !finished { condition.wait() }
            guard let work = handoff else {
                let waiters = stopWaiters
                stopWaiters = []
                condition.unlock()
                store.detachWriter()
                finishedSemaphore.signal()
                for waiter in waiters { waiter.resume() }
                return
            }
            handoff = nil
            committing = true
            condition.unlock()
            commit(work)
        }
    }

    /// Writes `work` in one transaction, records the outcome for the deciding side, and answers its
    /// commands. Called with `committing` set.
    private func commit(_ work: Decided) {
        let started = ContinuousClock.now
        let outcome = Result { () throws(EventLogError) -> Committed in
            let head = work.batch.needsTransaction
                ? try store.commit(work.batch, commands: work.commands.count) : work.batch.head
            return Committed(head: head, events: work.batch.count, duration: ContinuousClock.now - started)
        }
        condition.lock()
        committing = false
        lastCommitCommands = work.commands.count
        committerFreeSince = ContinuousClock.now
        switch outcome {
        case .success(let committed): durable = committed.head
        case .failure: failed = true
        }
        condition.broadcast()
        condition.unlock()
        stage.answer(work.commands, outcome: outcome)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative ones as zero).
    var nanoseconds: UInt64 {
        let (whole, attoseconds) = components
        return UInt64(max(0, whole)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    /// The duration in seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
