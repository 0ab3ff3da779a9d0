public import Hummingbird
public import NIOCore

/// Each request's context: Hummingbird's core storage plus the client's address, which login and
/// registration pass to qsmd's gateway as `origin` for the intrusion detection.
public struct WebContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer of the HTTP connection; nil in router tests, which have no socket.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, for `origin`.
    var clientAddress: String? { remoteAddress?.ipAddress }
}
