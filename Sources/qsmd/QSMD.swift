import ArgumentParser
import Broker
import EventLog
import Foundation
import Glibc
import Logging
import ServiceLifecycle
import QSMDaemon
import UnixSignals
import Varlink

/// qsmd: the qsm broker daemon.
@main
struct QSMD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qsmd",
        abstract: "The qsm secure messaging broker.",
        discussion: """
            Opens (creating on first start) the data directory DIR: the event log in DIR/log and the master \
            key in DIR/master.key (mode 0600). Serves io.qsm.Broker and io.qsm.Admin over Varlink on a Unix \
            socket (default DIR/qsm.sock, mode 0660) until SIGTERM or SIGINT, then lets running calls finish, \
            commits, and exits with status 0. io.qsm.Admin is for root, qsmd's own uid and --admin-group. \
            With --gateway-socket it also serves io.qsm.Broker alone on a second socket for qsm-web: there no \
            caller is an administrator and the client address Login and Register pass as origin is trusted.

            Under systemd (see docs/operations.md) qsmd takes its listening sockets from the service manager \
            (LISTEN_FDS: the socket named varlink, and the one named gateway; --socket and --gateway-socket \
            are then ignored), sends READY=1, STOPPING=1, STATUS= and, when WATCHDOG_USEC is set, WATCHDOG=1 \
            to NOTIFY_SOCKET, and logs to standard error for the journal.
            """,
        version: Release.version)

    @Option(name: .long, help: ArgumentHelp("The data directory; created mode 0700 if missing.", valueName: "DIR"))
    var data: String

    @Option(name: .long, help: ArgumentHelp("The Varlink socket (default DIR/qsm.sock).", valueName: "PATH"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp(
        "Also serve io.qsm.Broker, and never io.qsm.Admin, on this socket for a gateway such as qsm-web (mode 0660): "
            + "the origin its calls pass is trusted. Give it only to the gateway's user.", valueName: "PATH"))
    var gatewaySocket: String?

    @Option(name: .long, help: ArgumentHelp("A JSON configuration file (see docs/qsmd.md).", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Members of this group may call io.qsm.Admin.", valueName: "GROUP"))
    var adminGroup: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also append every signed checkpoint to FILE, which must be outside the data directory.", valueName: "FILE"))
    var witness: String?

    @Flag(name: .long, help: ArgumentHelp(
        "Serve a log that fails the start-up check (cut back behind its witness, a broken chain after the last "
            + "checkpoint, a last checkpoint that does not verify): what was found is recorded and every key in force "
            + "is retired. Without it qsmd refuses such a log and exits with status 65."))
    var acceptDamagedLog = false

    @Flag(name: .long, help: ArgumentHelp(
        "Make a new signing key when DIR/signing.key is missing although the log holds checkpoints (or adopt the "
            + "file's key when it is another), recording the replacement in the log. Without it qsmd refuses to start."))
    var newSigningKey = false

    @Flag(name: .long, help: ArgumentHelp(
        "Refuse to start (status 66) when DIR is missing instead of creating it: a service whose volume is not "
            + "mounted or whose backup is not restored must not begin an empty log."))
    var requireDataDirectory = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(name: .long, help: .hidden)
    var varlinkCertification = false

    @Option(name: .long, help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics (loopback only unless --metrics-allow-remote).",
        valueName: "HOST:PORT"))
    var metricsListen: String?

    @Flag(name: .long, help: "Let --metrics-listen bind a non-loopback address.")
    var metricsAllowRemote = false

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("--data needs a directory") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
        try validateMetrics()
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
        let handover = try serviceManagerHandover(dataDirectory: dataDirectory, logger: logger)
        let metrics = try await startMetrics(logger: logger)
        let settings: DaemonSettings
        do {
            settings = try DaemonSettings(file: config)
        } catch {
            logger.critical("Cannot use the configuration", metadata: ["error": "\(error)"])
            throw ExitCode(78)  // EX_CONFIG
        }
        var configuration = BrokerConfiguration(dataDirectory: dataDirectory)
        settings.apply(to: &configuration)
        if let witness = witness ?? settings.witnessFile { configuration.witnessPath = witness }
        configuration.acceptDamagedLog = acceptDamagedLog
        configuration.replaceSigningKey = newSigningKey
        let inherited = handover.activation?.main
        let socketPath = handover.activation?.mainDescription ?? socket ?? dataDirectory + "/qsm.sock"
        // Before anything is created: a start that cannot serve must leave no data directory, log or keys.
        let inheritedGateway = handover.activation?.gateway
        let gatewayPath = handover.activation?.gatewayDescription ?? gatewaySocket
        var toCheck: [String] = inherited == nil ? [socketPath] : []
        if inheritedGateway == nil, let gatewayPath { toCheck.append(gatewayPath) }
        for path in toCheck {
            do { try VarlinkServer.checkSocketPath(path) } catch {
                logger.critical("Cannot serve the socket", metadata: ["error": "\(error)"])
                throw ExitCode(69)  // EX_UNAVAILABLE
            }
        }
        let admins: AdminPolicy
        do { admins = try AdminPolicy(adminGroup: adminGroup ?? settings.adminGroup) } catch {
            logger.critical("Cannot use the admin group", metadata: ["error": "\(error)"])
            throw ExitCode(78)
        }
        let broker: Broker
        do {
            broker = try Broker(configuration: configuration)
        } catch let refusal as StartupRefusal {
            logger.critical("Refusing to start: \(refusal)")
            throw ExitCode(65)  // EX_DATAERR: the log or its signing key is not what it should be
        } catch BrokerError.unavailable(let reason) {
            logger.critical("Cannot use the data directory: \(reason)")
            throw ExitCode(74)  // EX_IOERR
        } catch BrokerError.invalidParameter(let name, let reason) {
            logger.critical("Cannot use the configuration", metadata: ["\(name)": "\(reason)"])
            throw ExitCode(78)  // EX_CONFIG: a witness inside the data directory, another log's witness
        } catch {
            logger.critical("Cannot open the data directory", metadata: ["data": "\(dataDirectory)", "error": "\(error)"])
            throw ExitCode(74)  // EX_IOERR
        }
        metrics?.observe(broker)
        warnIfOpenToOthers(dataDirectory, logger: logger)
        var server = VarlinkServerConfiguration(
            socketPath: socketPath,
            info: VarlinkServiceInfo(vendor: "qsm", product: "qsmd", version: Release.version, url: "https://github.com/qsm/qsm"))
        settings.apply(to: &server)
        server.inheritedSocket = inherited
        // Administrators are not limited per uid and may use the reserved connections.
        server.isPrivileged = { peer in admins.isAdmin(peer) }
        raiseOpenFileLimit(toServe: server.maxConnections, logger: logger)
        server.enableCertification = varlinkCertification
        let interfaces = [
            try BrokerInterface.make(broker: broker, description: InterfaceDescriptions.broker, admins: admins),
            try AdminInterface.make(broker: broker, description: InterfaceDescriptions.admin, admins: admins),
        ]
        let socketServer = VarlinkServer(
            configuration: server, interfaces: metrics?.instrument(interfaces) ?? interfaces, logger: logger)
        // Started in this order and stopped in reverse: systemd hears STOPPING=1, the socket stops taking
        // calls and drains, then the broker commits what is queued and closes the log, then the metrics
        // endpoint goes.
        var services: [any Service] = metrics.map { [$0] } ?? []
        services.append(BrokerService(broker: broker, logger: logger))
        let readiness = Readiness()
        if let gatewayPath {
            let gateway = try gatewayServer(
                gatewayPath, inherited: inheritedGateway, base: server, broker: broker, admins: admins, logger: logger)
            services.append(VarlinkService(server: gateway, logger: logger, readyLine: "qsmd gateway socket ready") {
                (try? broker.log.head().position) ?? 0
            })
        }
        // The ordinary socket's service comes last among the sockets: its ready line (and READY=1) means
        // every socket serves.
        services.append(
            VarlinkService(server: socketServer, logger: logger, readiness: readiness) {
                (try? broker.log.head().position) ?? 0
            })
        if let notifier = handover.notifier {
            services.append(
                SystemdNotifyService(notifier: notifier, readiness: readiness, logger: logger) {
                    "Serving at log position \((try? broker.log.head().position) ?? 0)"
                })
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// The gateway socket's server: io.qsm.Broker only, as the trusted gateway sees it. Its one peer (the
/// gateway's uid) carries every web user's calls, so per-uid limits, which would let one page's streams
/// starve the rest, do not apply there: the socket's mode and owner decide who reaches it.
func gatewayServer(
    _ path: String, inherited: Int32?, base: VarlinkServerConfiguration, broker: Broker, admins: AdminPolicy, logger: Logger
) throws -> VarlinkServer {
    var configuration = base
    configuration.socketPath = path
    // The service manager's socket when it passed one (qsmd-gateway.socket), else bound at `path`.
    configuration.inheritedSocket = inherited
    configuration.isPrivileged = { _ in true }
    configuration.enableCertification = false
    let interface = try BrokerInterface.make(
        broker: broker, description: InterfaceDescriptions.broker, admins: admins, gateway: true)
    return VarlinkServer(configuration: configuration, interfaces: [interface], logger: logger)
}

/// Warns when group or others may enter or list the data directory (it holds the master key and the
/// log; qsmd creates it 0700), with the chmod that fixes it.
func warnIfOpenToOthers(_ directory: String, logger: Logger) {
    var status = stat()
    guard stat(directory, &status) == 0, status.st_mode & 0o077 != 0 else { return }
    let mode = String(status.st_mode & 0o7777, radix: 8)
    logger.warning("The data directory is open to other users (mode \(mode)): run chmod 700 \(directory)")
}

/// Raises the soft limit on open files towards the hard one, so `maxConnections` (plus the log, the
/// listening socket and a margin) can be reached: the usual soft limit of 1,024 would otherwise leave
/// connections past it waiting in the backlog instead of being served or refused.
func raiseOpenFileLimit(toServe connections: Int, logger: Logger) {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return }
    let wanted = rlim_t(max(0, connections) + 64)
    guard limit.rlim_cur < wanted else { return }
    let raised = min(wanted, limit.rlim_max)
    limit.rlim_cur = raised
    if setrlimit(RLIMIT_NOFILE_VALUE, &limit) != 0 || raised < wanted {
        logger.warning(
            "The open-file limit is below maxConnections",
            metadata: ["limit": "\(raised)", "maxConnections": "\(connections)"])
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif
