import EventLog
public import Foundation
public import QSMEvents

/// Filters over the log's events; every filter given must hold (AND). Used by `log export`,
/// `log replay` and `forensics query`.
public struct EventQuery: Sendable, Equatable {
    /// First position, inclusive.
    public var from: UInt64?
    /// Last position, inclusive.
    public var to: UInt64?
    /// Event types; any of them matches. Empty: every type.
    public var types: Set<EventType> = []
    /// The event's actor (header field, indexed).
    public var actor: String?
    /// The uid of the socket peer that caused the event (events without a peer never match).
    public var peerUID: UInt32?
    /// A message id: matches message_sent and message_decrypted of that message, and access_denied on it.
    public var messageID: Data?
    /// Recorded at or after, microseconds since the epoch (inclusive).
    public var since: Int64?
    /// Recorded before, microseconds since the epoch (exclusive).
    public var until: Int64?

    public init() {}

    /// True if no filter is set: the whole log.
    public var isEmpty: Bool { self == EventQuery() }

    /// Rejects filters that contradict themselves.
    public func validate() throws(ForensicsError) {
        if let from, let to, from > to {
            throw .usage("--from \(from) is after --to \(to): give a first position no greater than the last")
        }
        if from == 0 { throw .usage("--from 0: positions start at 1") }
        if let since, let until, since >= until {
            throw .usage(
                "--since \(Timestamps.string(micros: since)) is not before --until \(Timestamps.string(micros: until)) "
                    + "(--until is exclusive)")
        }
    }

    /// Whether `event` passes every filter. The definition of the answer; the planner only decides
    /// which events to look at.
    public func matches(_ event: QSMEvent) -> Bool {
        if let from, event.position < from { return false }
        if let to, event.position > to { return false }
        if let since, event.recordedAtUs < since { return false }
        if let until, event.recordedAtUs >= until { return false }
        if !types.isEmpty {
            guard let type = event.eventType, types.contains(type) else { return false }
        }
        if let actor, event.actor != actor { return false }
        if let peerUID, !event.hasPeer || event.peer.uid != peerUID { return false }
        if let messageID, EventFacts.messageID(of: event) != messageID { return false }
        return true
    }

    /// Parses type names as the CLI takes them (`message_sent`, or several separated by commas).
    public static func parseTypes(_ names: [String]) throws(ForensicsError) -> Set<EventType> {
        var types: Set<EventType> = []
        for name in names.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let type = EventType(name: name) ?? UInt32(name).flatMap(EventType.init(rawValue:)) {
                types.insert(type)
            } else {
                let known = EventType.allCases.map(\.name).joined(separator: ", ")
                throw .usage("unknown event type '\(name)'; known types: \(known)")
            }
        }
        return types
    }

    /// Parses a message id: 32 hexadecimal digits.
    public static func parseMessageID(_ text: String) throws(ForensicsError) -> Data {
        guard let id = HexDigits.decode(text), id.count == 16 else {
            throw .usage("message id '\(text)' is not 32 hexadecimal digits")
        }
        return id
    }

    /// Parses a --since/--until value (see `Timestamps.parse`).
    public static func parseTime(_ text: String, option: String, nowMicros: Int64) throws(ForensicsError) -> Int64 {
        guard let micros = Timestamps.parse(text, nowMicros: nowMicros) else {
            throw .usage(
                "\(option) '\(text)' is not a time: give RFC 3339 (2026-11-28T06:08:09Z, 2026-11-28T07:08:09+01:00), "
                    + "a date (2026-11-28), now, or a relative time (-90s, -15m, -1h, -2d, -1w)")
        }
        return micros
    }
}
