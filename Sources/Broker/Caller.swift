public import EventLog
import SwiftProtobuf
import Synchronization

/// Who is calling: the socket peer's credentials (recorded on every event the call causes) and whether
/// the socket layer found them to be an administrator.
public struct Caller: Sendable, Hashable {
    public var peer: PeerCredentials?
    public var isAdmin: Bool
    /// The client address a trusted gateway (the web face) passed for the call; nil on the broker socket.
    public var origin: String?
    /// A client address the call passed where it is not trusted (the ordinary socket): the events the
    /// call causes record it as ignored, and nothing keys on it.
    public var ignoredOrigin: String?

    public init(peer: PeerCredentials?, isAdmin: Bool = false, origin: String? = nil, ignoredOrigin: String? = nil) {
        self.peer = peer
        self.isAdmin = isAdmin
        self.origin = origin
        self.ignoredOrigin = ignoredOrigin
    }

    /// The broker's own process, for in-process use and tests.
    public static let local = Caller(peer: nil, isAdmin: true)

    /// Where the call comes from, as lockouts, rate limits and the intrusion detection key it.
    public var source: CallSource {
        if let origin { return .address(origin) }
        if let peer { return .uid(peer.uid) }
        return .local
    }
}

/// Where a call comes from: a socket peer's uid today, a client address the web face passes on its
/// gateway socket later. Its text ("uid:65534", "addr:203.0.113.7", "local") is what events record and
/// what the intrusion detection keys its per-source rules, locks and limits by.
public struct CallSource: Sendable, Hashable, CustomStringConvertible {
    /// The recorded form.
    public let text: String

    /// A source from its recorded form.
    public init(text: String) { self.text = text }

    /// A local socket peer.
    public static func uid(_ uid: UInt32) -> CallSource { CallSource(text: "uid:\(uid)") }
    /// A client address passed by a trusted gateway.
    public static func address(_ address: String) -> CallSource { CallSource(text: "addr:\(address)") }
    /// The broker's own process.
    public static let local = CallSource(text: "local")

    public var description: String { text }
}
