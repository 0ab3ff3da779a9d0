import Foundation
public import QSMEvents

/// One event of a user's timeline and the roles the user has in it.
public struct TimelineEntry: Sendable, Equatable {
    public let event: QSMEvent
    /// E.g. `[.actor, .sender]` for a message they sent, `[.recipient]` for one sent to them.
    public let roles: [EventFacts.Role]

    /// - Parameters: the event and the user's roles in it.
    public init(event: QSMEvent, roles: [EventFacts.Role]) {
        self.event = event
        self.roles = roles
    }
}

extension ForensicLog {
    /// Everything `user` did and everything done to them (messages to them, reads of their messages,
    /// key exchanges they were the peer of, refusals on what they own, alerts and lockouts about them),
    /// in log order, as of the head when it began.
    ///
    /// The by_actor index covers only what the user did; the events that name them in their bodies
    /// are indexed by nothing, so the exact answer reads every record in range. It decodes only the
    /// records that contain the name's bytes, which makes that scan cheap.
    ///
    /// - Parameters:
    ///   - user: the username.
    ///   - query: further filters (positions, time, types, peer uid); its `actor` must be nil.
    public func timeline(
        of user: String, query: EventQuery = EventQuery(), _ body: (TimelineEntry) throws(ForensicsError) -> Void
    ) throws(ForensicsError) {
        guard !user.isEmpty else { throw .usage("the user name is empty") }
        guard query.actor == nil else { throw .usage("a timeline takes the user, not --actor") }
        try query.validate()
        let head = try headPosition()
        guard let bounds = try positionBounds(query, head: head) else { return }
        let name = Array(user.utf8)
        try scan(bounds, prefilter: { record($0, contains: name) }) { event throws(ForensicsError) in
            let roles = EventFacts.roles(of: user, in: event)
            if !roles.isEmpty, query.matches(event) { try body(TimelineEntry(event: event, roles: roles)) }
        }
    }

    /// `user`'s timeline as an array (see `timeline(of:query:_:)`).
    public func timeline(of user: String, query: EventQuery = EventQuery()) throws(ForensicsError) -> [TimelineEntry] {
        var result: [TimelineEntry] = []
        try timeline(of: user, query: query) { result.append($0) }
        return result
    }
}
