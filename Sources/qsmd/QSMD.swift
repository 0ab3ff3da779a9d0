import ArgumentParser
import EventLog
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// qsmd: the qsm broker daemon.
@main
struct QSMD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qsmd",
        abstract: "The qsm secure messaging broker.",
        discussion: """
            Opens (creating on first start) the event log in DIR/log and serves until SIGTERM or SIGINT, \
            then commits what is queued and exits with status 0. The Varlink socket arrives with the \
            socket issue; until then qsmd holds the log open as its single writer.
            """)

    @Option(name: .long, help: ArgumentHelp("The data directory; created mode 0700 if missing.", valueName: "DIR"))
    var data: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("--data needs a directory") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "qsmd")
        let dataDirectory = URL(fileURLWithPath: data).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(
                atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ValidationError("cannot create the data directory \(dataDirectory): \(error.localizedDescription)")
        }
        let log: EventStore
        do {
            log = try EventStore(directory: dataDirectory + "/log")
        } catch {
            logger.critical("Cannot open the event log", metadata: ["error": "\(error)"])
            throw ExitCode(74)  // EX_IOERR
        }
        let head = try log.head()
        logger.info(
            "Event log open",
            metadata: [
                "log.path": "\(log.path)", "log.id": "\(log.meta.logID)", "log.position": "\(head.position)",
            ])
        let group = ServiceGroup(
            services: [LogHolder(log: log, logger: logger)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
    }
}

/// Keeps the event log open until graceful shutdown, then closes it (committing what is queued).
struct LogHolder: Service {
    let log: EventStore
    let logger: Logger

    func run() async throws {
        logger.info("qsmd ready")
        try? await gracefulShutdown()
        log.close()
        logger.info("Event log closed", metadata: ["log.position": "\((try? log.head().position) ?? 0)"])
    }
}
