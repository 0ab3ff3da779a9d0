import QSMEvents

/// The schema names of the events' enum values, as written in Schemas/qsm/events/v1/*.proto (the
/// generated Swift keeps them in SwiftProtobuf's internal name maps, out of reach). A value this build
/// does not know is written as its number.
enum EnumNames {
    /// The name of `rawValue` in `names` (indexed by value), or nil for an unknown value.
    static func name(_ rawValue: Int, in names: [StaticString]) -> StaticString? {
        rawValue >= 0 && rawValue < names.count ? names[rawValue] : nil
    }

    static let messageMode: [StaticString] = [
        "MESSAGE_MODE_UNSPECIFIED", "MESSAGE_MODE_OTP", "MESSAGE_MODE_AES", "MESSAGE_MODE_PQC",
    ]
    static let severity: [StaticString] = [
        "SEVERITY_UNSPECIFIED", "SEVERITY_LOW", "SEVERITY_MEDIUM", "SEVERITY_HIGH", "SEVERITY_CRITICAL",
    ]
    static let passwordChangedReason: [StaticString] = [
        "REASON_UNSPECIFIED", "REASON_USER", "REASON_REHASH", "REASON_ADMIN",
    ]
    static let loginFailedReason: [StaticString] = [
        "REASON_UNSPECIFIED", "REASON_UNKNOWN_USER", "REASON_BAD_PASSWORD", "REASON_ACCOUNT_LOCKED", "REASON_THROTTLED",
        "REASON_BAD_SECOND_FACTOR", "REASON_SECOND_FACTOR_REQUIRED", "REASON_SECOND_FACTOR_NOT_ENABLED", "REASON_MALFORMED_CODE",
    ]
    static let accountUnlockedReason: [StaticString] = ["REASON_UNSPECIFIED", "REASON_EXPIRED", "REASON_ADMIN"]
    static let keyExchangeAbortedReason: [StaticString] = [
        "REASON_UNSPECIFIED", "REASON_QBER_ABOVE_THRESHOLD", "REASON_NO_SECRET_KEY", "REASON_CONFIRMATION_FAILED",
    ]
    static let accessDeniedReason: [StaticString] = [
        "REASON_UNSPECIFIED", "REASON_NOT_OWNER", "REASON_NO_SESSION", "REASON_EXPIRED_SESSION",
        "REASON_REVOKED_SESSION", "REASON_NOT_ADMIN", "REASON_ACCOUNT_LOCKED", "REASON_USERNAME_TAKEN",
        "REASON_THROTTLED", "REASON_BAD_SECOND_FACTOR", "REASON_SECOND_FACTOR_STATE", "REASON_MALFORMED_CODE",
    ]

    /// A short lower-case form for human output: `REASON_BAD_PASSWORD` -> `bad_password`,
    /// `MESSAGE_MODE_OTP` -> `otp`.
    static func short(_ rawValue: Int, in names: [StaticString], dropping prefix: String) -> String {
        guard let name = name(rawValue, in: names) else { return String(rawValue) }
        var text = name.description
        if text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        return text.lowercased()
    }
}
