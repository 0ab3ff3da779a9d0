public import Broker
public import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
#if canImport(Glibc)
import Glibc
#endif
public import ServiceLifecycle
public import Varlink

/// Where `--metrics-listen` serves: an IP address (or `localhost`) and a port, loopback unless allowed.
public struct MetricsEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// The address to bind, as written (`127.0.0.1`, `::1`, `0.0.0.0`, ...).
    public let host: String
    /// The TCP port, 1 to 65535.
    public let port: Int

    /// Parses `HOST:PORT` or `[IPv6]:PORT`.
    /// - Parameter allowRemote: without it, only loopback addresses (127.0.0.0/8, ::1, localhost) are accepted.
    /// - Throws: ``MetricsEndpointError`` naming what is wrong.
    public init(_ text: String, allowRemote: Bool) throws(MetricsEndpointError) {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw MetricsEndpointError("'\(text)' is not HOST:PORT or [IPv6]:PORT")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw MetricsEndpointError("'\(text)' is not HOST:PORT or [IPv6]:PORT")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw MetricsEndpointError("the port in '\(text)' must be a number from 1 to 65535")
        }
        let address = host == "localhost" ? "127.0.0.1" : String(host)
        guard (try? SocketAddress(ipAddress: address, port: port)) != nil else {
            throw MetricsEndpointError("'\(host)' is not an IP address (or localhost)")
        }
        guard allowRemote || Self.isLoopback(address) else {
            throw MetricsEndpointError(
                "\(host) is not a loopback address: metrics would be readable from the network; add --metrics-allow-remote to allow it")
        }
        self.host = address
        self.port = port
    }

    /// 127.0.0.0/8 and ::1 (also written in full), and 127.0.0.0/8 mapped into IPv6 however it is
    /// written (::ffff:127.0.0.1, ::ffff:7f00:1).
    static func isLoopback(_ address: String) -> Bool {
        if address.hasPrefix("127.") { return true }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return false }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff { return bytes[12] == 127 }
        return bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1
    }

    /// `HOST:PORT`, with brackets around an IPv6 address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A `--metrics-listen` value that cannot be used.
public struct MetricsEndpointError: Error, CustomStringConvertible {
    /// What is wrong with the value, in one line.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Serves `GET /metrics` in the Prometheus text format on a TCP address, for qsmd's `--metrics-listen`.
///
/// ``start(endpoint:logger:)`` bootstraps swift-metrics with a Prometheus registry and binds at once, so a
/// port in use fails qsmd's start-up (exit 69) before the broker opens. As a ``Service`` it closes the
/// listener on graceful shutdown.
public final class MetricsServer: Service, Sendable {
    let registry: PrometheusCollectorRegistry
    let channel: any Channel
    let logger: Logger

    private init(registry: PrometheusCollectorRegistry, channel: any Channel, logger: Logger) {
        self.registry = registry
        self.channel = channel
        self.logger = logger
    }

    /// Bootstraps the metrics system (once per process) and listens on `endpoint`.
    /// - Throws: the bind error (address in use, not available, permission).
    public static func start(endpoint: MetricsEndpoint, logger: Logger) async throws -> MetricsServer {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["qsm_commit_duration_seconds"] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .seconds(1),
        ]
        factory.durationHistogramBuckets["qsm_command_duration_seconds"] = [
            .microseconds(250), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(10),
        ]
        let sizes: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
        factory.valueHistogramBuckets["qsm_commit_batch_commands"] = sizes
        factory.valueHistogramBuckets["qsm_commit_batch_events"] = sizes
        MetricsSystem.bootstrap(factory)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // A connection that says nothing for a minute is closed (scrapers reconnect).
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(60)))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                }
            }
            .bind(host: endpoint.host, port: endpoint.port)
            .get()
        logger.info("Serving metrics", metadata: ["metrics.address": "\(endpoint)", "metrics.path": "/metrics"])
        return MetricsServer(registry: registry, channel: channel, logger: logger)
    }

    /// Wraps every method of `interfaces` to count calls by method and outcome and time them
    /// (`qsm_commands_total`, `qsm_command_duration_seconds`).
    public func instrument(_ interfaces: [VarlinkInterface]) -> [VarlinkInterface] {
        interfaces.map { interface in
            var interface = interface
            let prefix = interface.name + "."
            interface.wrapHandlers { name, handler in
                let method = prefix + name
                let timer = Metrics.Timer(label: "qsm_command_duration_seconds", dimensions: [("method", method)])
                return { call, replier in
                    let started = ContinuousClock.now
                    var outcome = "ok"
                    defer {
                        let elapsed = ContinuousClock.now - started
                        timer.recordNanoseconds(
                            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
                        Counter(label: "qsm_commands_total", dimensions: [("method", method), ("outcome", outcome)]).increment()
                    }
                    do {
                        return try await handler(call, replier)
                    } catch let error as VarlinkError {
                        outcome = String(error.name.split(separator: ".").last ?? "error")
                        throw error
                    } catch let error as any VarlinkErrorConvertible {
                        outcome = String(error.varlinkError.name.split(separator: ".").last ?? "error")
                        throw error
                    } catch {
                        outcome = "error"
                        throw error
                    }
                }
            }
            return interface
        }
    }

    /// Brings the event counters up to `broker`'s totals before the first scrape.
    public func observe(_ broker: Broker) {
        broker.publishMetrics()
    }

    /// Serves until graceful shutdown, then closes the listener.
    public func run() async throws {
        try? await gracefulShutdown()
        try? await channel.close()
    }

    /// The current exposition, as a scrape would get it.
    public func exposition() -> String { registry.emitToString() }
}

/// Answers `GET /metrics` (and `HEAD`) with the registry's exposition; `/` says where to look; anything
/// else is 404 or 405.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let request else { return }
            self.request = nil
            respond(to: request, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        let status: HTTPResponseStatus
        var body: [UInt8]
        var contentType = "text/plain; charset=utf-8"
        switch (request.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            status = .ok
            body = registry.emitToBuffer()
            contentType = "text/plain; version=0.0.4; charset=utf-8"
        case (.GET, "/"), (.HEAD, "/"):
            status = .ok
            body = Array("qsmd metrics: GET /metrics\n".utf8)
        case (_, "/metrics"), (_, "/"):
            status = .methodNotAllowed
            body = Array("only GET\n".utf8)
        default:
            status = .notFound
            body = Array("not found: GET /metrics\n".utf8)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
