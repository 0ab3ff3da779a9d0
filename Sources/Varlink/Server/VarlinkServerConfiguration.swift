internal import Glibc

/// Where a ``VarlinkServer`` listens, what it reports about itself and the limits it enforces.
public struct VarlinkServerConfiguration: Sendable {
    /// The Unix socket path (at most 103 bytes). A stale socket file is replaced; a live one is an error.
    public var socketPath: String
    /// The socket file's mode, set right after bind.
    public var socketMode: UInt32 = 0o660
    /// A listening Unix stream socket to serve instead of binding ``socketPath``: one systemd (or another
    /// service manager) bound and handed over. Its owner made the file and its mode, so the server sets no
    /// mode and leaves the file in place when it stops; ``socketPath`` then only names it in logs.
    public var inheritedSocket: Int32?
    /// What `org.varlink.service.GetInfo` reports.
    public var info: VarlinkServiceInfo
    /// The largest message accepted, in bytes without its NUL. Larger ones get `FrameTooLarge` and a close.
    public var maxFrameSize: Int = 1 << 20
    /// How deeply arrays and objects may nest in a message.
    public var maxNestingDepth: Int = 64
    /// Connections beyond this many are closed as soon as they are accepted.
    public var maxConnections: Int = 1024
    /// Connections of ``maxConnections`` that only privileged peers (``isPrivileged``) may take, so one
    /// local user, or several, can never shut administrators out.
    public var reservedConnections: Int = 64
    /// Connections one peer uid may hold at once (privileged peers excepted); more are closed when accepted.
    public var maxConnectionsPerUID: Int = 64
    /// Calls made without `more` that one peer uid may have running at once (privileged peers excepted); a
    /// call beyond it gets `org.varlink.server.TooManyCalls`.
    public var maxCallsPerUID: Int = 32
    /// Calls made with `more` (streams) that one peer uid may have running at once (privileged peers
    /// excepted); a stream beyond it gets `org.varlink.server.TooManyStreams`.
    public var maxStreamsPerUID: Int = 16
    /// Bytes read from one connection and not yet taken by a call (a partial message and pipelined ones)
    /// before the server stops reading from it. At least ``maxFrameSize`` + 1 is used, so a message of
    /// the largest size can always arrive.
    public var maxInputBytesPerConnection: Int = 2 << 20
    /// Such bytes over all connections of one peer uid (privileged peers excepted) before the server stops
    /// reading from any of them. At least ``maxInputBytesPerConnection`` is used.
    public var maxInputBytesPerUID: Int = 16 << 20
    /// Who the per-uid limits do not apply to and who may use ``reservedConnections``. By default root and
    /// the server's own uid; qsmd adds its administrators.
    public var isPrivileged: @Sendable (PeerCredentials) -> Bool = { peer in
        peer.uid == 0 || peer.uid == getuid()
    }
    /// A connection with no call running and no complete message arriving for this long is closed; the
    /// bytes of a message still arriving do not count, so trickling one byte at a time keeps nothing open.
    public var idleTimeout: Duration = .seconds(300)
    /// A connection whose peer leaves replies unread (the socket stays unwritable) this long is closed, and so
    /// is one whose reading is held this long by the input limits with no call running (its uid's other
    /// connections hold the budget with messages that cannot complete).
    public var stallTimeout: Duration = .seconds(30)
    /// Outbound bytes buffered per connection before its handlers wait (the write buffer high watermark).
    /// With one reply waiting beside it, this bounds queued output: per uid, by ``maxConnectionsPerUID``
    /// times this.
    public var outboundHighWatermark: Int = 256 * 1024
    /// How long ``VarlinkServer/stop()`` lets running calls finish before closing their connections.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// Serve `org.varlink.certification`, the interface the reference certification client checks.
    /// For tests only.
    public var enableCertification = false

    /// Creates a configuration with the default limits.
    /// - Parameters:
    ///   - socketPath: the Unix socket path.
    ///   - info: what `GetInfo` reports.
    public init(socketPath: String, info: VarlinkServiceInfo) {
        self.socketPath = socketPath
        self.info = info
    }
}
