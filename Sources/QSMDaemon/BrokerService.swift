import ArgumentParser
public import Broker
import EventLog
public import Logging
public import ServiceLifecycle
public import Varlink

/// The broker as a service: open while the group runs; on graceful shutdown (or cancellation, when a
/// sibling service failed) it answers what is queued, appends a last checkpoint and a snapshot, and
/// closes the log. Listed before the socket's service, it stops after it: no call arrives once it closes.
public struct BrokerService: Service {
    let broker: Broker
    let logger: Logger

    /// A service for the open `broker`, logging to `logger`.
    public init(broker: Broker, logger: Logger) {
        self.broker = broker
        self.logger = logger
    }

    /// Waits for graceful shutdown or cancellation, then closes the broker.
    public func run() async throws {
        try? await gracefulShutdown()
        await broker.close()
        logger.info("Stopped", metadata: ["log.position": "\((try? broker.log.head().position) ?? 0)"])
    }
}

/// The Varlink socket as a service: binds and serves until graceful shutdown, then stops accepting,
/// lets running calls finish and closes every connection.
public struct VarlinkService: Service {
    let server: VarlinkServer
    let logger: Logger
    /// The log's head, for the ready line.
    let head: @Sendable () -> UInt64
    /// Settled once the socket serves, for the service manager's `READY=1`.
    let readiness: Readiness?
    /// The ready line: scripts wait for "qsmd ready", which the ordinary socket's service prints last.
    let readyLine: Logger.Message

    /// A service for `server`; `head` gives the position the ready line reports; `readiness`, when given,
    /// is settled once the socket serves.
    public init(
        server: VarlinkServer, logger: Logger, readiness: Readiness? = nil, readyLine: Logger.Message = "qsmd ready",
        head: @escaping @Sendable () -> UInt64
    ) {
        self.server = server
        self.logger = logger
        self.readiness = readiness
        self.readyLine = readyLine
        self.head = head
    }

    /// Serves until graceful shutdown; exits 69 when the socket cannot be served.
    public func run() async throws {
        do {
            try await server.start()
        } catch {
            logger.critical("Cannot serve the socket", metadata: ["error": "\(error)"])
            throw ExitCode(69)  // EX_UNAVAILABLE
        }
        logger.info(readyLine, metadata: ["socket": "\(server.configuration.socketPath)", "log.position": "\(head())"])
        readiness?.settle(true)
        try? await gracefulShutdown()
        logger.info("Shutting down: finishing running calls")
        await server.stop()
    }
}
