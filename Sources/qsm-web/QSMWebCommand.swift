import ArgumentParser
import Foundation
import Glibc
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import QSMWeb

/// qsm-web: the web face of qsm, a client of qsmd's gateway socket.
@main
struct QSMWebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qsm-web",
        abstract: "The qsm web face: register, log in, exchange keys, send and read messages in a browser.",
        discussion: """
            Serves server-rendered pages over HTTP (or HTTPS with --tls-cert and --tls-key) and calls qsmd on its \
            gateway socket (qsmd --gateway-socket PATH), which serves io.qsm.Broker only. Listens on 127.0.0.1:8080 \
            unless told otherwise; a non-loopback address needs TLS, or --insecure-http. See docs/web.md.
            """)

    @Option(name: .long, help: ArgumentHelp("qsmd's gateway socket (qsmd --gateway-socket).", valueName: "PATH"))
    var socket: String

    @Option(name: .long, help: ArgumentHelp("The address and port to listen on.", valueName: "HOST:PORT"))
    var listen: String = "127.0.0.1:8080"

    @Option(name: .long, help: ArgumentHelp("The TLS certificate chain (PEM); with --tls-key, serves HTTPS.", valueName: "FILE"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp("The TLS private key (PEM) of --tls-cert.", valueName: "FILE"))
    var tlsKey: String?

    @Flag(name: .long, help: "Allow plain HTTP on a non-loopback address (passwords and cookies then cross the network in clear).")
    var insecureHttp = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard !socket.isEmpty else { throw ValidationError("--socket needs qsmd's gateway socket") }
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen must be HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080, with a port of 1-65535")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
        if let address = ListenAddress(listen), !address.isLoopback, tlsCert == nil, !insecureHttp {
            throw ValidationError(
                "--listen \(listen) is not a loopback address: give --tls-cert and --tls-key, or --insecure-http to serve plain HTTP anyway")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "qsm-web")
        if geteuid() == 0 {
            logger.warning("Running as root: qsm-web needs no privileges; run it as an ordinary user with access to the gateway socket")
        }
        guard let address = ListenAddress(listen) else { throw ExitCode(64) }
        let face = try WebFace(configuration: WebConfiguration(socketPath: socket, tls: tlsCert != nil), logger: logger)
        let server: HTTPServerBuilder
        if let tlsCert, let tlsKey {
            do {
                server = try .tls(tlsConfiguration: try TLSFiles.configuration(certificate: tlsCert, key: tlsKey))
            } catch {
                logger.critical("Cannot use the TLS certificate or key", metadata: ["error": "\(error)"])
                throw ExitCode(78)
            }
        } else {
            server = .http1()
        }
        let scheme = tlsCert == nil ? "http" : "https"
        let app = Application(
            router: face.router(), server: server,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "qsm-web"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.info("qsm-web ready", metadata: ["url": "\(scheme)://\(address.urlHost):\(port)/", "socket": "\(socket)"])
            },
            logger: logger)
        do {
            try await app.runService()
        } catch {
            logger.critical("Cannot serve", metadata: ["error": "\(error)"])
            await face.shutdown()
            throw ExitCode(69)
        }
        await face.shutdown()
    }
}
