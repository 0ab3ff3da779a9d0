/// io.qsm.Broker (Schemas/io.qsm.Broker.varlink): one type per method and per declared type.
public enum BrokerAPI {
    static let interface = "io.qsm.Broker"

    // MARK: Types

    /// A session: the token is shown once; expiresAt is microseconds since the epoch.
    public struct Session: Codable, Sendable, Equatable {
        public var token: String
        public var username: String
        public var expiresAt: Int
    }

    /// The figures of a completed BB84 exchange.
    public struct Exchange: Codable, Sendable, Equatable {
        public var keyId: String
        public var peer: String
        public var qubitsSent: Int
        public var sifted: Int
        public var sampleSize: Int
        public var qber: Double
        public var qberUpperBound: Double
        public var leakedBits: Int
        public var finalBits: Int
        public var efficiency: Double
    }

    /// A message as an inbox lists it (never its body).
    public struct InboxMessage: Codable, Sendable, Equatable {
        public var messageId: String
        public var from: String
        public var sentAt: Int
        public var mode: String
        public var size: Int
        public var read: Bool
    }

    /// One line of a user's history.
    public struct HistoryEntry: Codable, Sendable, Equatable {
        public var position: Int
        public var at: Int
        public var kind: String
        public var summary: String
    }

    /// The BB84 key a user shares with a peer.
    public struct KeyPoolStatus: Codable, Sendable, Equatable {
        public var peer: String
        public var availableBits: Int
        public var keys: Int
    }

    /// System-wide counters since the log began.
    public struct Counters: Codable, Sendable, Equatable {
        public var registrations: Int
        public var loginsSucceeded: Int
        public var loginsFailed: Int
        public var keyExchanges: Int
        public var keyExchangesAborted: Int
        public var encryptions: Int
        public var decryptions: Int
        public var alerts: Int
        public var activeSessions: Int
        public var meanQber: Double?
        public var keyBitsMade: Int?
        public var keyBitsUsed: Int?
        public var encryptionsByMode: [String: Int]?
        public var decryptionsByMode: [String: Int]?
        public var alertsBySeverity: [String: Int]?
    }

    /// One minute of activity (minute: minutes since the epoch).
    public struct Minute: Codable, Sendable, Equatable {
        public var minute: Int
        public var sends: Int
        public var decryptions: Int
        public var loginsFailed: Int
        public var alerts: Int
    }

    /// One recent key exchange for the QBER chart.
    public struct ExchangeQber: Codable, Sendable, Equatable {
        public var at: Int
        public var qber: Double
        public var qberUpperBound: Double
        public var threshold: Double
        public var aborted: Bool
    }

    /// An alert about the caller's own account.
    public struct UserAlert: Codable, Sendable, Equatable {
        public var alertId: String
        public var at: Int
        public var rule: String
        public var severity: String
        public var subject: String
        public var message: String
    }

    // MARK: Methods

    /// Creates a user.
    public struct Register: QSMRequest {
        public static let method = "\(interface).Register"
        public var username: String
        public var password: String
        /// The client's address, trusted on the gateway socket only.
        public var origin: String?
        public init(username: String, password: String, origin: String? = nil) {
            self.username = username
            self.password = password
            self.origin = origin
        }
        public struct Reply: Codable, Sendable { public var username: String }
    }

    /// Starts a session.
    public struct Login: QSMRequest {
        public static let method = "\(interface).Login"
        public var username: String
        public var password: String
        /// The second factor's code (or a recovery code), for a user who has one on.
        public var code: String?
        /// The client's address, trusted on the gateway socket only.
        public var origin: String?
        public init(username: String, password: String, code: String? = nil, origin: String? = nil) {
            self.username = username
            self.password = password
            self.code = code
            self.origin = origin
        }
        public struct Reply: Codable, Sendable { public var session: Session }
    }

    /// Ends the session of token.
    public struct Logout: QSMRequest {
        public static let method = "\(interface).Logout"
        public typealias Reply = EmptyReply
        public var token: String
        public init(token: String) { self.token = token }
    }

    /// Changes the password; every session of the user ends.
    public struct ChangePassword: QSMRequest {
        public static let method = "\(interface).ChangePassword"
        public typealias Reply = EmptyReply
        public var token: String
        public var oldPassword: String
        public var newPassword: String
        public init(token: String, oldPassword: String, newPassword: String) {
            self.token = token
            self.oldPassword = oldPassword
            self.newPassword = newPassword
        }
    }

    /// Runs a BB84 exchange with peer.
    public struct EstablishKey: QSMRequest {
        public static let method = "\(interface).EstablishKey"
        public var token: String
        public var peer: String
        public var qubits: Int?
        public var noise: Double?
        public var eavesdropper: Double?
        public var basisBias: Double?
        public init(
            token: String, peer: String, qubits: Int? = nil, noise: Double? = nil, eavesdropper: Double? = nil,
            basisBias: Double? = nil
        ) {
            self.token = token
            self.peer = peer
            self.qubits = qubits
            self.noise = noise
            self.eavesdropper = eavesdropper
            self.basisBias = basisBias
        }
        public struct Reply: Codable, Sendable { public var exchange: Exchange }
    }

    /// Encrypts body for to and stores it.
    public struct Send: QSMRequest {
        public static let method = "\(interface).Send"
        public var token: String
        public var to: String
        public var body: String
        /// otp, aes (default) or pqc.
        public var mode: String?
        public init(token: String, to: String, body: String, mode: String? = nil) {
            self.token = token
            self.to = to
            self.body = body
            self.mode = mode
        }
        public struct Reply: Codable, Sendable {
            public var messageId: String
            public var position: Int
        }
    }

    /// The session user's key pools.
    public struct KeyStatus: QSMRequest {
        public static let method = "\(interface).KeyStatus"
        public var token: String
        public init(token: String) { self.token = token }
        public struct Reply: Codable, Sendable { public var pools: [KeyPoolStatus] }
    }

    /// The session user's messages, newest first.
    public struct Inbox: QSMRequest {
        public static let method = "\(interface).Inbox"
        public var token: String
        public var unreadOnly: Bool?
        public var limit: Int?
        public var cursor: String?
        public init(token: String, unreadOnly: Bool? = nil, limit: Int? = nil, cursor: String? = nil) {
            self.token = token
            self.unreadOnly = unreadOnly
            self.limit = limit
            self.cursor = cursor
        }
        public struct Reply: Codable, Sendable {
            public var messages: [InboxMessage]
            public var total: Int
            public var more: Int
            public var cursor: String?
        }
    }

    /// Decrypts a message for its recipient or sender (recorded).
    public struct Decrypt: QSMRequest {
        public static let method = "\(interface).Decrypt"
        public var token: String
        public var messageId: String
        public init(token: String, messageId: String) {
            self.token = token
            self.messageId = messageId
        }
        public struct Reply: Codable, Sendable {
            public var body: String
            public var from: String
            public var to: String
            public var sentAt: Int
            public var mode: String
        }
    }

    /// The session user's history, newest first.
    public struct History: QSMRequest {
        public static let method = "\(interface).History"
        public var token: String
        public var limit: Int?
        public var cursor: String?
        public init(token: String, limit: Int? = nil, cursor: String? = nil) {
            self.token = token
            self.limit = limit
            self.cursor = cursor
        }
        public struct Reply: Codable, Sendable {
            public var entries: [HistoryEntry]
            public var total: Int
            public var more: Int
            public var cursor: String?
        }
    }

    /// Alerts about the session user's own account, newest first.
    public struct MyAlerts: QSMRequest {
        public static let method = "\(interface).MyAlerts"
        public var token: String
        public var limit: Int?
        public init(token: String, limit: Int? = nil) {
            self.token = token
            self.limit = limit
        }
        public struct Reply: Codable, Sendable { public var alerts: [UserAlert] }
    }

    /// The Dashboard reply of Dashboard and WatchDashboard.
    public struct DashboardReply: Codable, Sendable, Equatable {
        public var counters: Counters
        public var minutes: [Minute]
        public var exchanges: [ExchangeQber]
    }

    /// System-wide counters, the last minutes and the latest key exchanges.
    public struct Dashboard: QSMRequest {
        public static let method = "\(interface).Dashboard"
        public typealias Reply = DashboardReply
        public var token: String
        public var minutes: Int?
        public init(token: String, minutes: Int? = nil) {
            self.token = token
            self.minutes = minutes
        }
    }

    /// Dashboard replies, one now and one after every change.
    public struct WatchDashboard: QSMStreamingRequest {
        public static let method = "\(interface).WatchDashboard"
        public typealias Reply = DashboardReply
        public var token: String
        public var minutes: Int?
        public init(token: String, minutes: Int? = nil) {
            self.token = token
            self.minutes = minutes
        }
    }
}
