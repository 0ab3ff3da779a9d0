public import Logging
internal import NIOCore
internal import NIOPosix
internal import Synchronization

/// A Varlink server on a Unix domain socket.
///
/// ```swift
/// let server = VarlinkServer(configuration: configuration, interfaces: [broker, admin], logger: logger)
/// try await server.run()          // serves until the task is cancelled, then stops gracefully
/// // or: try await server.start(); ...; await server.stop()
/// ```
/// `org.varlink.service` is always provided; `org.varlink.certification` when the configuration enables it.
public final class VarlinkServer: Sendable {
    /// Where the server is in its life: each step happens once, in this order.
    private enum Lifecycle {
        /// Created; nothing bound.
        case idle
        /// Binding the socket.
        case starting
        /// Accepting and serving connections.
        case serving
        /// Closing the socket and draining connections.
        case stopping
        /// Every connection closed and the socket file removed.
        case stopped
    }

    private struct State {
        var lifecycle = Lifecycle.idle
        /// Callers of stop() while another one drains: resumed once the server has stopped.
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var serverChannel: (any Channel)?
        var serveTask: Task<Void, Never>?
        var socketInode: UInt64?
        var nextConnectionID = 0
        var connections: [Int: (channel: any Channel, activity: ConnectionActivity)] = [:]
        /// Accepted connections not yet taken from NIO's accept stream. Holding them keeps their writers
        /// alive: when the server closes, NIO drops what the stream still buffers, and a dropped
        /// NIOAsyncChannel whose writer was never finished traps the process (swift-nio issue 2813).
        var unserved: [ObjectIdentifier: NIOAsyncChannel<InboundFrame, ByteBuffer>] = [:]
        /// Set once stop() has closed the unserved connections; later ones are closed as they come.
        var unservedClosed = false
        /// Connections refused for a limit since the last warning, and when that was: a peer connecting in
        /// a loop gets one line every ten seconds, not one a connection.
        var refusedSinceWarning = 0
        var lastRefusalWarning: ContinuousClock.Instant?
    }

    /// The configuration the server was created with.
    public let configuration: VarlinkServerConfiguration
    let dispatcher: Dispatcher
    /// Connections, calls, streams and buffered input per peer uid.
    let ledger: PeerLedger
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates a server; nothing is bound until ``start()`` or ``run()``.
    /// - Parameters:
    ///   - configuration: socket path, service information and limits.
    ///   - interfaces: the interfaces to serve (names must be unique and not `org.varlink.service`).
    ///   - logger: where connection events and handler failures are logged (nowhere by default).
    public init(
        configuration: VarlinkServerConfiguration, interfaces: [VarlinkInterface],
        logger: Logger = Logger(label: "varlink", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        var all = interfaces
        if configuration.enableCertification { all.append(VarlinkCertification.interface()) }
        var descriptions: [String: String] = [:]
        for interface in all { descriptions[interface.name] = interface.definition.description }
        descriptions["org.varlink.service"] = ServiceInterface.description
        all.append(ServiceInterface.make(info: configuration.info, descriptions: descriptions))
        precondition(Set(all.map(\.name)).count == all.count, "two interfaces with the same name")
        self.configuration = configuration
        self.ledger = PeerLedger(limits: PeerLedger.Limits(configuration))
        self.dispatcher = Dispatcher(
            interfaces: Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) }), logger: logger)
        self.logger = logger
    }

    /// The number of connections being served.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// What the peers of `uid` hold now: connections, running calls and streams, and input bytes read but
    /// not yet taken by a call.
    package func usage(uid: UInt32) -> (connections: Int, calls: Int, streams: Int, inputBytes: Int) {
        let usage = ledger.usage(uid: uid)
        return (usage.connections, usage.calls, usage.streams, usage.inputBytes)
    }

    /// Checks, changing nothing, that a server could take `path`: it fits a socket address and holds
    /// nothing but, at most, a stale socket. A daemon calls it before creating anything of its own, so a
    /// second instance on a busy socket leaves no trace.
    /// - Throws: ``VarlinkServerError/addressInUse(_:)``, ``VarlinkServerError/notASocket(_:)`` or
    ///   ``VarlinkServerError/pathTooLong(_:)``.
    public static func checkSocketPath(_ path: String) throws(VarlinkServerError) {
        _ = try SocketFile.check(path)
    }

    /// Binds the socket (replacing a stale socket file, refusing a live one), sets its mode and starts
    /// accepting connections. Returns once the socket accepts connections.
    /// - Throws: ``VarlinkServerError`` or a socket error.
    public func start() async throws {
        try state.withLock { state throws(VarlinkServerError) in
            guard case .idle = state.lifecycle else { throw .alreadyStarted }
            state.lifecycle = .starting
        }
        let path = configuration.socketPath
        if let inherited = configuration.inheritedSocket {
            try await serveInherited(inherited)
            return
        }
        try SocketFile.prepare(path)
        // Bound in a private directory and renamed into place once it has its mode: bound in place, the
        // socket is briefly connectable with the mode the umask leaves (issue 16: uid 65534 connected in
        // 8 of 15 restarts under umask 000).
        let staging = try SocketFile.makeStagingDirectory(for: path)
        let bindPath = staging.map { $0 + "/s" } ?? path
        let server: NIOAsyncChannel<Accepted, Never>
        do {
            server = try await bind { bootstrap, initializer in
                try await bootstrap.bind(
                    unixDomainSocketPath: bindPath, cleanupExistingSocketFile: false, childChannelInitializer: initializer)
            }
        } catch {
            if let staging { rmdir(staging) }
            throw error
        }
        do {
            try SocketFile.chmod(bindPath, mode: configuration.socketMode)
            if let staging { try SocketFile.moveIntoPlace(bindPath, staging: staging, to: path) }
        } catch {
            try? await server.channel.close()
            if let staging {
                unlink(bindPath)
                rmdir(staging)
            }
            throw error
        }
        accept(on: server, inode: SocketFile.inode(path))
    }

    /// Serves a socket someone else bound and listens on; its file is theirs, so no inode is recorded
    /// and ``stop()`` leaves it in place.
    private func serveInherited(_ descriptor: Int32) async throws {
        let server = try await bind { bootstrap, initializer in
            try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
        }
        accept(on: server, inode: nil)
    }

    private func accept(on server: NIOAsyncChannel<Accepted, Never>, inode: UInt64?) {
        let task = Task { await self.serve(server) }
        state.withLock { state in
            state.serverChannel = server.channel
            state.serveTask = task
            state.socketInode = inode
            // A stop() that came while binding has already begun; it finds the channel on its own.
            if case .starting = state.lifecycle { state.lifecycle = .serving }
        }
        logger.info("Listening", metadata: ["varlink.socket": "\(configuration.socketPath)"])
    }

    /// Stops gracefully: closes the listening socket, lets running calls finish (up to the grace period),
    /// closes every connection and removes the socket file. Returns when all connections are closed.
    public func stop() async {
        typealias Draining = (
            channel: (any Channel)?, task: Task<Void, Never>?,
            connections: [(channel: any Channel, activity: ConnectionActivity)], inode: UInt64?
        )
        let begun = state.withLock { state -> Draining? in
            switch state.lifecycle {
            case .stopping, .stopped: return nil
            case .idle, .starting, .serving:
                state.lifecycle = .stopping
                return (state.serverChannel, state.serveTask, Array(state.connections.values), state.socketInode)
            }
        }
        guard let (serverChannel, task, connections, inode) = begun else {
            // Another stop() is draining: return when it is done, as it will.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let stopped = state.withLock { state -> Bool in
                    if case .stopped = state.lifecycle { return true }
                    state.stopWaiters.append(continuation)
                    return false
                }
                if stopped { continuation.resume() }
            }
            return
        }
        try? await serverChannel?.close()
        for (channel, activity) in connections where activity.drain() { channel.close(promise: nil) }
        if let serverChannel, !connections.isEmpty {
            let grace = TimeAmount.nanoseconds(Self.nanoseconds(configuration.shutdownGracePeriod))
            serverChannel.eventLoop.scheduleTask(in: grace) { [self] in
                for entry in state.withLock({ $0.connections.values }) { entry.channel.close(promise: nil) }
            }
        }
        await task?.value
        let unserved = state.withLock { state in
            state.unservedClosed = true
            defer { state.unserved = [:] }
            return Array(state.unserved.values)
        }
        for channel in unserved { await Self.closeUnserved(channel) }
        SocketFile.remove(configuration.socketPath, inode: inode)
        let waiters = state.withLock { state in
            state.lifecycle = .stopped
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
        logger.info("Stopped", metadata: ["varlink.socket": "\(configuration.socketPath)"])
    }

    /// Starts, serves until the calling task is cancelled, then stops gracefully.
    public func run() async throws {
        try await start()
        let task = state.withLock { $0.serveTask }
        await withTaskCancellationHandler {
            await task?.value
        } onCancel: {
            Task { await self.stop() }
        }
        await stop()
    }

    private typealias Accepted = (channel: NIOAsyncChannel<InboundFrame, ByteBuffer>, peer: PeerCredentials,
        activity: ConnectionActivity, gate: InputGate)

    private typealias Binding = @Sendable (
        ServerBootstrap, _ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Accepted>
    ) async throws -> NIOAsyncChannel<Accepted, Never>

    /// Configures a bootstrap and lets `binding` bind it (to a path, or to an inherited descriptor).
    private func bind(_ binding: Binding) async throws -> NIOAsyncChannel<Accepted, Never> {
        let configuration = self.configuration
        let ledger = self.ledger
        let watermark = max(configuration.outboundHighWatermark, 2)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // One socket read per read event: InputBudget can hold the next one, so a connection reads at
            // most one buffer (64 KiB) past its input limit.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: watermark / 2, high: watermark))
        return try await binding(bootstrap) { channel in
            PeerCredentialsReader.read(channel).flatMapThrowing { peer in
                let activity = ConnectionActivity()
                let gate = InputGate(uid: peer.uid, privileged: configuration.isPrivileged(peer), ledger: ledger)
                let operations = channel.pipeline.syncOperations
                try operations.addHandler(
                    InputBudget(
                        gate: gate, activity: activity,
                        heldTimeout: .nanoseconds(Self.nanoseconds(configuration.stallTimeout))))
                try operations.addHandler(
                    ByteToMessageHandler(NULFrameDecoder(maxFrameSize: configuration.maxFrameSize)))
                try operations.addHandler(
                    ConnectionGuard(
                        idleTimeout: .nanoseconds(Self.nanoseconds(configuration.idleTimeout)),
                        stallTimeout: .nanoseconds(Self.nanoseconds(configuration.stallTimeout)),
                        activity: activity))
                let wrapped = try NIOAsyncChannel<InboundFrame, ByteBuffer>(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 4)))
                let held = self.state.withLock { state in
                    guard !state.unservedClosed else { return false }
                    state.unserved[ObjectIdentifier(channel)] = wrapped
                    return true
                }
                // Accepted after stop() closed the unserved ones: nobody will serve it; finish it here.
                if !held { Task { await Self.closeUnserved(wrapped) } }
                return (wrapped, peer, activity, gate)
            }
        }
    }

    private func serve(_ server: NIOAsyncChannel<Accepted, Never>) async {
        await withDiscardingTaskGroup { group in
            do {
                try await server.executeThenClose { inbound in
                    for try await accepted in inbound {
                        _ = state.withLock { $0.unserved.removeValue(forKey: ObjectIdentifier(accepted.channel.channel)) }
                        let id: Int
                        switch admit(accepted) {
                        case .success(let admitted): id = admitted
                        case .failure(let refusal):
                            warnRefused(accepted.peer, refusal)
                            group.addTask { await Self.closeUnserved(accepted.channel) }
                            continue
                        }
                        group.addTask { [self] in
                            await Connection(
                                channel: accepted.channel, peer: accepted.peer, activity: accepted.activity,
                                gate: accepted.gate, ledger: ledger, dispatcher: dispatcher,
                                maxNestingDepth: configuration.maxNestingDepth,
                                maxFrameSize: configuration.maxFrameSize, logger: logger
                            ).run()
                            _ = state.withLock { $0.connections.removeValue(forKey: id) }
                            ledger.leave(uid: accepted.peer.uid, privileged: accepted.gate.privileged)
                        }
                    }
                }
            } catch {
                logger.error("Accept loop failed", metadata: ["error": "\(String(describing: error))"])
            }
        }
    }

    /// Why an accepted connection is not served.
    private enum Refused: Error {
        case stopping
        case limit(PeerLedger.Refusal)
    }

    /// Registers a new connection unless a limit is reached or the server is stopping.
    private func admit(_ accepted: Accepted) -> Result<Int, Refused> {
        state.withLock { state in
            switch state.lifecycle {
            case .starting, .serving: break
            case .idle, .stopping, .stopped: return .failure(.stopping)
            }
            if let refusal = ledger.admit(uid: accepted.peer.uid, privileged: accepted.gate.privileged) {
                return .failure(.limit(refusal))
            }
            state.nextConnectionID += 1
            state.connections[state.nextConnectionID] = (accepted.channel.channel, accepted.activity)
            return .success(state.nextConnectionID)
        }
    }

    /// Logs refused connections, at most one line every ten seconds with the count since the last.
    private func warnRefused(_ peer: PeerCredentials, _ refused: Refused) {
        guard case .limit(let refusal) = refused else { return }
        let now = ContinuousClock.now
        let count = state.withLock { state -> Int? in
            state.refusedSinceWarning += 1
            if let last = state.lastRefusalWarning, now - last < .seconds(10) { return nil }
            state.lastRefusalWarning = now
            defer { state.refusedSinceWarning = 0 }
            return state.refusedSinceWarning
        }
        guard let count else { return }
        logger.warning(
            "Connection refused: limit reached",
            metadata: ["peer": "\(peer)", "limit": "\(refusal)", "refused": "\(count)"])
    }

    /// Closes a connection nobody will serve. executeThenClose finishes its writer first: NIO traps on an
    /// accepted channel whose writer is released unfinished.
    private static func closeUnserved(_ channel: NIOAsyncChannel<InboundFrame, ByteBuffer>) async {
        try? await channel.executeThenClose { _, _ in }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
