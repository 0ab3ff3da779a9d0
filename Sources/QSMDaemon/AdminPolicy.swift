public import Broker
import EventLog
import Foundation
public import Varlink

/// Who may call io.qsm.Admin: root, the daemon's own uid, or members of a configured group (by the
/// peer's primary gid, or by membership in the group's member list).
public struct AdminPolicy: Sendable {
    let daemonUID: UInt32
    let adminGID: UInt32?
    let adminMembers: Set<String>

    /// The policy for `adminGroup` (nil: root and qsmd's uid only); throws when the group does not exist.
    public init(adminGroup: String?) throws {
        daemonUID = getuid()
        guard let adminGroup else {
            adminGID = nil
            adminMembers = []
            return
        }
        guard let group = getgrnam(adminGroup) else { throw AdminGroupError(name: adminGroup) }
        adminGID = group.pointee.gr_gid
        var members = Set<String>()
        var cursor = group.pointee.gr_mem
        while let member = cursor?.pointee {
            members.insert(String(cString: member))
            cursor = cursor?.advanced(by: 1)
        }
        adminMembers = members
    }

    public func isAdmin(_ peer: Varlink.PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == daemonUID { return true }
        guard let adminGID else { return false }
        if peer.gid == adminGID { return true }
        guard let user = getpwuid(peer.uid) else { return false }
        return adminMembers.contains(String(cString: user.pointee.pw_name))
    }

    /// The broker's view of a socket peer.
    public func caller(for peer: Varlink.PeerCredentials) -> Caller {
        Caller(peer: EventLog.PeerCredentials(uid: peer.uid, gid: peer.gid, pid: peer.pid), isAdmin: isAdmin(peer))
    }
}

/// The configured admin group does not exist.
public struct AdminGroupError: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "no group named \(name) (--admin-group)" }
}
