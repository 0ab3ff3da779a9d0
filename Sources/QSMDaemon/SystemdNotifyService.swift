public import Logging
public import ServiceLifecycle
import Synchronization

/// Set once, by the part of qsmd that decides it is ready (the socket serving), and awaited by another.
public final class Readiness: Sendable {
    private struct State {
        var outcome: Bool?
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }

    private let state = Mutex(State())

    /// A readiness not yet decided.
    public init() {}

    /// Decides: true when ready, false when qsmd gives up before it was. Only the first call counts.
    public func settle(_ ready: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard state.outcome == nil else { return [] }
            state.outcome = ready
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: ready) }
    }

    /// Waits for ``settle(_:)`` and returns what it decided.
    public func wait() async -> Bool {
        await withCheckedContinuation { continuation in
            let outcome = state.withLock { state -> Bool? in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }
}

/// Keeps the service manager informed (sd_notify(3)): `READY=1` once the socket serves, `WATCHDOG=1` every
/// half of `WATCHDOG_USEC` (as sd_watchdog_enabled(3) advises), `STATUS=` with the log's head at each of
/// these, and `STOPPING=1` when shutdown begins. Listed last in the service group, it is the first to hear
/// of graceful shutdown, so `STOPPING=1` goes out before the socket drains and the log closes.
public struct SystemdNotifyService: Service {
    let notifier: SystemdNotifier
    let readiness: Readiness
    let status: @Sendable () -> String
    let logger: Logger

    /// A service telling `notifier` about qsmd.
    /// - Parameters:
    ///   - notifier: the connected `NOTIFY_SOCKET`.
    ///   - readiness: settled by the socket's service once it serves.
    ///   - status: the `STATUS=` text (the log's head), read at each message.
    ///   - logger: where a message the manager did not take is reported.
    public init(
        notifier: SystemdNotifier, readiness: Readiness, logger: Logger, status: @escaping @Sendable () -> String
    ) {
        self.notifier = notifier
        self.readiness = readiness
        self.status = status
        self.logger = logger
    }

    /// Sends `READY=1`, pings the watchdog until graceful shutdown or cancellation, then sends `STOPPING=1`.
    public func run() async throws {
        // A sibling that fails (the socket cannot be served) cancels the group before anyone settles.
        let ready = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await readiness.wait()
            } onGracefulShutdown: { [readiness] in
                readiness.settle(false)
            }
        } onCancel: { [readiness] in
            readiness.settle(false)
        }
        defer { send(["STOPPING=1", "STATUS=Stopping: finishing running calls"]) }
        guard ready else { return }
        send(["READY=1", "STATUS=" + status()])
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval / 2) }
            } catch {
                return
            }
            send(["WATCHDOG=1", "STATUS=" + status()])
        }
    }

    private func send(_ fields: [String]) {
        if !notifier.send(fields) {
            logger.warning(
                "The service manager did not take a notification",
                metadata: ["notify.socket": "\(notifier.address)", "notify.message": "\(fields[0])"])
        }
    }
}
