/// Where a ``VarlinkServer`` listens, what it reports about itself and the limits it enforces.
public struct VarlinkServerConfiguration: Sendable {
    /// The Unix socket path (at most 103 bytes). A stale socket file is replaced; a live one is an error.
    public var socketPath: String
    /// The socket file's mode, set right after bind.
    public var socketMode: UInt32 = 0o660
    /// What `org.varlink.service.GetInfo` reports.
    public var info: VarlinkServiceInfo
    /// The largest message accepted, in bytes without its NUL. Larger ones get `FrameTooLarge` and a close.
    public var maxFrameSize: Int = 1 << 20
    /// How deeply arrays and objects may nest in a message.
    public var maxNestingDepth: Int = 64
    /// Connections beyond this many are closed as soon as they are accepted.
    public var maxConnections: Int = 1024
    /// A connection with no call running and no bytes coming in for this long is closed.
    public var idleTimeout: Duration = .seconds(300)
    /// A connection whose peer leaves replies unread (the socket stays unwritable) this long is closed.
    public var stallTimeout: Duration = .seconds(30)
    /// Outbound bytes buffered per connection before its handlers wait (the write buffer high watermark).
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
