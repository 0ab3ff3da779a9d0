extension BrokerAPI {
    /// Starts enrolling a TOTP second factor; the URI holds the secret, shown once.
    public struct StartSecondFactor: QSMRequest {
        public static let method = "\(interface).StartSecondFactor"
        public var token: String
        public init(token: String) { self.token = token }
        public struct Reply: Codable, Sendable { public var uri: String }
    }

    /// Turns the factor on with a first valid code; the recovery codes are given once.
    public struct ConfirmSecondFactor: QSMRequest {
        public static let method = "\(interface).ConfirmSecondFactor"
        public var token: String
        public var code: String
        public init(token: String, code: String) {
            self.token = token
            self.code = code
        }
        public struct Reply: Codable, Sendable { public var recoveryCodes: [String] }
    }

    /// Turns the factor off, with the password and a current code.
    public struct DisableSecondFactor: QSMRequest {
        public static let method = "\(interface).DisableSecondFactor"
        public typealias Reply = EmptyReply
        public var token: String
        public var password: String
        public var code: String
        public init(token: String, password: String, code: String) {
            self.token = token
            self.password = password
            self.code = code
        }
    }

    /// A new set of recovery codes (the old ones stop working), for a current code.
    public struct NewRecoveryCodes: QSMRequest {
        public static let method = "\(interface).NewRecoveryCodes"
        public var token: String
        public var code: String
        public init(token: String, code: String) {
            self.token = token
            self.code = code
        }
        public struct Reply: Codable, Sendable { public var recoveryCodes: [String] }
    }
}
