import Foundation
import Synchronization

/// How busy the key-exchange pool is: what runs now, what waits, and what ended early.
public struct ExchangePoolStatistics: Sendable, Equatable {
    /// Exchanges simulating now (at most the pool's thread count).
    public var running = 0
    /// Exchanges queued for a thread.
    public var waiting = 0
    /// The most that ever ran at once.
    public var mostRunning = 0
    /// Exchanges that ran to the end (completed or aborted by BB84).
    public var finished = 0
    /// Exchanges whose caller went away: dropped from the queue, or stopped between BB84's stages.
    public var cancelled = 0
}

/// Runs BB84 simulations on a few threads of its own, queued first come first served. A ten-million-qubit
/// exchange is about fifteen seconds of CPU; on the crypto queue (whose width is the core count) four of
/// them held every thread, and logins and sends waited behind them (security review, issue 16 item 6).
/// Here they cannot take more than `threads` cores, they run at a lower scheduling priority than
/// everything else, and an exchange whose caller has gone is dropped or stopped.
final class ExchangePool: Sendable {
    /// A queued or running simulation; `cancelled` is read by the simulation between its stages. `body`
    /// returns how to answer its caller, so the statistics are updated before the caller hears.
    private final class Job: Sendable {
        let body: @Sendable (_ isCancelled: @Sendable () -> Bool) -> @Sendable () -> Void
        let abandon: @Sendable () -> Void
        let cancelled = Atomic<Bool>(false)

        init(
            body: @escaping @Sendable (@Sendable () -> Bool) -> @Sendable () -> Void,
            abandon: @escaping @Sendable () -> Void
        ) {
            self.body = body
            self.abandon = abandon
        }
    }

    private struct State {
        var queue: [Job] = []
        var threads = 0
        var stopped = false
        var statistics = ExchangePoolStatistics()
    }

    private let threadLimit: Int
    private let state = Mutex(State())
    /// Idle threads wait on it for a job (Mutex has no condition variable).
    private let wakeUp = NSCondition()

    /// A pool of at most `threads` threads, started when the first exchanges arrive.
    init(threads: Int) {
        threadLimit = max(1, threads)
    }

    var statistics: ExchangePoolStatistics { state.withLock { $0.statistics } }

    /// Runs `body` on a pool thread and returns what it returns. `body` receives a check that turns true
    /// once the calling task is cancelled (its Varlink connection closed): it should then stop and throw.
    /// A cancelled task whose job has not started yet gets `cancelledError` at once.
    func run<T: Sendable>(
        cancelledError: BrokerError,
        _ body: @escaping @Sendable (_ isCancelled: @Sendable () -> Bool) throws(BrokerError) -> T
    ) async throws(BrokerError) -> T {
        let box = Mutex<Job?>(nil)
        let result: Result<T, BrokerError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, BrokerError>, Never>) in
                let job = Job(
                    body: { isCancelled in
                        let result = Result { () throws(BrokerError) -> T in try body(isCancelled) }
                        return { continuation.resume(returning: result) }
                    },
                    abandon: { continuation.resume(returning: .failure(cancelledError)) })
                box.withLock { $0 = job }
                if Task.isCancelled { job.cancelled.store(true, ordering: .relaxed) }
                enqueue(job)
            }
        } onCancel: {
            if let job = box.withLock({ $0 }) { cancel(job) }
        }
        return try result.get()
    }

    /// Stops the threads once the queue is empty; jobs queued after this are abandoned.
    func stop() {
        let abandoned = state.withLock { state -> [Job] in
            state.stopped = true
            defer { state.queue.removeAll() }
            return state.queue
        }
        for job in abandoned { job.abandon() }
        wakeUp.broadcast()
    }

    private func enqueue(_ job: Job) {
        let (accepted, startThread) = state.withLock { state -> (Bool, Bool) in
            // The flag is read under the lock `cancel` takes after setting it: a job is either refused
            // here or found in the queue there.
            let alreadyCancelled = job.cancelled.load(ordering: .relaxed)
            guard !state.stopped, !alreadyCancelled else {
                state.statistics.cancelled += alreadyCancelled ? 1 : 0
                return (false, false)
            }
            state.queue.append(job)
            state.statistics.waiting = state.queue.count
            let idle = state.threads - state.statistics.running
            guard idle < state.queue.count, state.threads < threadLimit else { return (true, false) }
            state.threads += 1
            return (true, true)
        }
        guard accepted else { return job.abandon() }
        if startThread {
            let thread = Thread { [self] in work() }
            thread.name = "qsm.exchange"
            thread.start()
        }
        wakeUp.lock()
        wakeUp.signal()
        wakeUp.unlock()
    }

    /// A job still queued leaves the queue and answers at once; a running one sees its flag.
    private func cancel(_ job: Job) {
        job.cancelled.store(true, ordering: .relaxed)
        let removed = state.withLock { state -> Bool in
            guard let index = state.queue.firstIndex(where: { $0 === job }) else { return false }
            state.queue.remove(at: index)
            state.statistics.waiting = state.queue.count
            state.statistics.cancelled += 1
            return true
        }
        if removed { job.abandon() }
    }

    /// A pool thread: below the priority of the daemon's other threads, taking jobs until the pool stops.
    private func work() {
        // Linux keeps the nice value per thread, and PRIO_PROCESS with who 0 names the calling thread
        // (setpriority(2), BUGS): this lowers only the exchange thread.
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        while let job = next() {
            let answer = job.body { job.cancelled.load(ordering: .relaxed) }
            state.withLock { state in
                state.statistics.running -= 1
                if job.cancelled.load(ordering: .relaxed) {
                    state.statistics.cancelled += 1
                } else {
                    state.statistics.finished += 1
                }
            }
            answer()
        }
    }

    /// The next job, waiting for one; nil when the pool stopped.
    private func next() -> Job? {
        wakeUp.lock()
        defer { wakeUp.unlock() }
        while true {
            let taken = state.withLock { state -> (job: Job?, exit: Bool) in
                if let job = state.queue.first {
                    state.queue.removeFirst()
                    state.statistics.waiting = state.queue.count
                    state.statistics.running += 1
                    state.statistics.mostRunning = max(state.statistics.mostRunning, state.statistics.running)
                    return (job, false)
                }
                if state.stopped {
                    state.threads -= 1
                    return (nil, true)
                }
                return (nil, false)
            }
            if let job = taken.job { return job }
            if taken.exit { return nil }
            wakeUp.wait()
        }
    }
}
