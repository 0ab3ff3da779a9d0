import ArgumentParser
public import Broker
import EventLog
public import Logging
public import ServiceLifecycle
public import Varlink

/// Serves the socket until graceful shutdown, then stops accepting, lets running calls finish, and closes
/// the broker (which commits what is queued and saves a snapshot).
public struct BrokerService: Service {
    let broker: Broker
    let server: VarlinkServer
    let logger: Logger

    /// A service for `broker` behind `server`, logging to `logger`.
    public init(broker: Broker, server: VarlinkServer, logger: Logger) {
        self.broker = broker
        self.server = server
        self.logger = logger
    }

    /// Serves until graceful shutdown; exits 69 when the socket cannot be served.
    public func run() async throws {
        do {
            try await server.start()
        } catch {
            logger.critical("Cannot serve the socket", metadata: ["error": "\(error)"])
            await broker.close()
            throw ExitCode(69)  // EX_UNAVAILABLE
        }
        let head = (try? broker.log.head().position) ?? 0
        logger.info("qsmd ready", metadata: ["socket": "\(server.configuration.socketPath)", "log.position": "\(head)"])
        try? await gracefulShutdown()
        logger.info("Shutting down: finishing running calls")
        await server.stop()
        await broker.close()
        logger.info("Stopped", metadata: ["log.position": "\((try? broker.log.head().position) ?? 0)"])
    }
}
