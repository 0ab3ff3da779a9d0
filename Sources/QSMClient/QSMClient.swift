public import NIOCore
public import NIOPosix
import Synchronization

/// A typed client of qsmd for servers: a small pool of connections to one socket, each call on an idle
/// connection (opened when none is idle, up to `maxConnections`; past that a call waits its turn), and
/// each stream on a connection of its own. A connection that failed is dropped, not reused.
public final class QSMClient: Sendable {
    /// The socket the client calls.
    public let socketPath: String
    /// Connections kept open at most, streams not counted.
    public let maxConnections: Int
    let group: any EventLoopGroup
    private let state = Mutex(PoolState())

    private struct PoolState {
        var idle: [QSMConnection] = []
        var open = 0
        var waiters: [CheckedContinuation<QSMConnection?, Never>] = []
        var closed = false
    }

    /// A pool of up to `maxConnections` connections to `socketPath`.
    public init(
        socketPath: String, maxConnections: Int = 8, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.socketPath = socketPath
        self.maxConnections = max(1, maxConnections)
        self.group = group
    }

    /// Calls `request`'s method on a pooled connection and returns its typed reply.
    public func call<Request: QSMRequest>(_ request: Request) async throws(QSMClientError) -> Request.Reply {
        let connection = try await checkOut()
        do {
            let reply = try await connection.call(request)
            checkIn(connection)
            return reply
        } catch {
            // An error reply leaves the connection usable; a broken one is dropped.
            if case .connection = error { await discard(connection) } else { checkIn(connection) }
            throw error
        }
    }

    /// A streaming call on a new connection of its own, closed when the stream ends or its consumer stops.
    public func stream<Request: QSMStreamingRequest>(_ request: Request) async throws(QSMClientError)
        -> AsyncThrowingStream<Request.Reply, any Error>
    {
        try await QSMConnection.connect(socketPath: socketPath, group: group).stream(request)
    }

    /// Closes every idle connection; calls after this fail.
    public func shutdown() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer { state.idle = []; state.waiters = [] }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        for connection in idle { await connection.close() }
    }

    private enum Grant {
        case reuse(QSMConnection)
        case open
        case wait
        case closed
    }

    private func checkOut() async throws(QSMClientError) -> QSMConnection {
        while true {
            let grant: Grant = state.withLock { state in
                if state.closed { return .closed }
                while let connection = state.idle.popLast() {
                    if connection.isOpen { return .reuse(connection) }
                    state.open -= 1
                }
                if state.open < maxConnections {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch grant {
            case .reuse(let connection): return connection
            case .closed: throw .connection("the client was shut down")
            case .open:
                do { return try await QSMConnection.connect(socketPath: socketPath, group: group) } catch {
                    release()
                    throw error
                }
            case .wait:
                let handed = await withCheckedContinuation { (continuation: CheckedContinuation<QSMConnection?, Never>) in
                    let closed = state.withLock { state in
                        if state.closed { return true }
                        state.waiters.append(continuation)
                        return false
                    }
                    if closed { continuation.resume(returning: nil) }
                }
                if let handed { return handed }
                if state.withLock({ $0.closed }) { throw .connection("the client was shut down") }
            }
        }
    }

    /// Gives `connection` to the next waiter, or back to the idle list.
    private func checkIn(_ connection: QSMConnection) {
        let waiter: CheckedContinuation<QSMConnection?, Never>? = state.withLock { state in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(connection)
            return nil
        }
        waiter?.resume(returning: connection)
    }

    private func discard(_ connection: QSMConnection) async {
        await connection.close()
        release()
    }

    /// One connection fewer: a waiter may open its own.
    private func release() {
        let waiter: CheckedContinuation<QSMConnection?, Never>? = state.withLock { state in
            state.open -= 1
            return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
        }
        // Woken with nothing, the waiter loops and opens a connection in the freed slot.
        waiter?.resume(returning: nil)
    }
}
