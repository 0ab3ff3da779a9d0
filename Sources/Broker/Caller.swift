public import EventLog
import SwiftProtobuf
import Synchronization

/// Who is calling: the socket peer's credentials (recorded on every event the call causes) and whether
/// the socket layer found them to be an administrator.
public struct Caller: Sendable, Hashable {
    public var peer: PeerCredentials?
    public var isAdmin: Bool

    public init(peer: PeerCredentials?, isAdmin: Bool = false) {
        self.peer = peer
        self.isAdmin = isAdmin
    }

    /// The broker's own process, for in-process use and tests.
    public static let local = Caller(peer: nil, isAdmin: true)
}
