/// io.qsm.Admin (Schemas/io.qsm.Admin.varlink): one type per method and per declared type. Only root,
/// qsmd's uid and its admin group may call these, and never on the gateway socket.
public enum AdminAPI {
    static let interface = "io.qsm.Admin"

    /// A recorded alert.
    public struct Alert: Codable, Sendable, Equatable {
        public var alertId: String
        public var position: Int
        public var at: Int
        public var rule: String
        public var severity: String
        public var subject: String
        public var message: String
        public var evidence: [Int]
    }

    /// A socket peer's credentials.
    public struct Peer: Codable, Sendable, Equatable {
        public var uid: Int
        public var gid: Int
        public var pid: Int
    }

    /// One event of the log.
    public struct Event: Codable, Sendable, Equatable {
        public var position: Int
        public var at: Int
        public var type: String
        public var actor: String
        public var data: JSONValue
        public var peer: Peer?
    }

    /// A projection's digest live and rebuilt.
    public struct ProjectionDigest: Codable, Sendable, Equatable {
        public var name: String
        public var live: String
        public var rebuilt: String
    }

    /// Recorded alerts, newest first.
    public struct Alerts: QSMRequest {
        public static let method = "\(interface).Alerts"
        public var limit: Int?
        public init(limit: Int? = nil) { self.limit = limit }
        public struct Reply: Codable, Sendable { public var alerts: [Alert] }
    }

    /// Alerts as they are raised.
    public struct WatchAlerts: QSMStreamingRequest {
        public static let method = "\(interface).WatchAlerts"
        public var last: Int?
        public init(last: Int? = nil) { self.last = last }
        public struct Reply: Codable, Sendable { public var alert: Alert }
    }

    /// Events from position `from`, one reply each.
    public struct ReadEvents: QSMStreamingRequest {
        public static let method = "\(interface).ReadEvents"
        public var from: Int?
        public var limit: Int?
        public init(from: Int? = nil, limit: Int? = nil) {
            self.from = from
            self.limit = limit
        }
        public struct Reply: Codable, Sendable { public var event: Event? }
    }

    /// Verifies the hash chain.
    public struct VerifyChain: QSMRequest {
        public static let method = "\(interface).VerifyChain"
        public init() {}
        public struct Reply: Codable, Sendable {
            public var ok: Bool
            public var lastPosition: Int
            public var firstBadPosition: Int?
        }
    }

    /// Rebuilds projections from the log and compares them with the live ones.
    public struct Rebuild: QSMRequest {
        public static let method = "\(interface).Rebuild"
        public var projection: String?
        public var swap: Bool?
        public init(projection: String? = nil, swap: Bool? = nil) {
            self.projection = projection
            self.swap = swap
        }
        public struct Reply: Codable, Sendable {
            public var position: Int
            public var equal: Bool
            public var digests: [ProjectionDigest]
            public var seconds: Double
            public var swapped: Bool
        }
    }

    /// Log and broker statistics.
    public struct Stats: QSMRequest {
        public static let method = "\(interface).Stats"
        public init() {}
        public struct Reply: Codable, Sendable {
            public var head: Int
            public var logBytes: Int
            public var mapBytes: Int
            public var commits: Int
            public var events: Int
            public var batches: Int
            public var commands: Int
            public var users: Int
            public var messages: Int
        }
    }
}
