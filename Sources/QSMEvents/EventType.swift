/// Every event type, with its stable numeric id (the body's field number in `qsm.events.v1.Event`)
/// and stable name (the field's name). Never renumber or reuse an id.
public enum EventType: UInt32, CaseIterable, Sendable, CustomStringConvertible {
    case userRegistered = 16
    case passwordChanged = 17
    case loginSucceeded = 18
    case loginFailed = 19
    case loggedOut = 20
    case sessionExpired = 21
    case keyExchangeCompleted = 22
    case keyExchangeAborted = 23
    case messageSent = 24
    case messageDecrypted = 25
    case accessDenied = 26
    case alertRaised = 27
    case accountLocked = 28
    case accountUnlocked = 29
    case checkpointSigned = 30
    case refusalsAggregated = 31
    case decryptionFailed = 32
    case keyMaterialRetired = 40
    case signingKeyReplaced = 41
    case secondFactorStarted = 50
    case secondFactorEnabled = 51
    case secondFactorDisabled = 52
    case recoveryCodesGenerated = 53
    case recoveryCodeUsed = 54

    /// The stable name, as in the schema: `user_registered`, `login_failed`, ...
    public var name: String {
        switch self {
        case .userRegistered: "user_registered"
        case .passwordChanged: "password_changed"
        case .loginSucceeded: "login_succeeded"
        case .loginFailed: "login_failed"
        case .loggedOut: "logged_out"
        case .sessionExpired: "session_expired"
        case .keyExchangeCompleted: "key_exchange_completed"
        case .keyExchangeAborted: "key_exchange_aborted"
        case .messageSent: "message_sent"
        case .messageDecrypted: "message_decrypted"
        case .accessDenied: "access_denied"
        case .alertRaised: "alert_raised"
        case .accountLocked: "account_locked"
        case .accountUnlocked: "account_unlocked"
        case .checkpointSigned: "checkpoint_signed"
        case .keyMaterialRetired: "key_material_retired"
        case .signingKeyReplaced: "signing_key_replaced"
        case .refusalsAggregated: "refusals_aggregated"
        case .decryptionFailed: "decryption_failed"
        case .secondFactorStarted: "second_factor_started"
        case .secondFactorEnabled: "second_factor_enabled"
        case .secondFactorDisabled: "second_factor_disabled"
        case .recoveryCodesGenerated: "recovery_codes_generated"
        case .recoveryCodeUsed: "recovery_code_used"
        }
    }

    /// The schema version this build writes for the type's body.
    public var currentSchemaVersion: UInt32 { 1 }

    /// The type with the stable name `name`, or nil.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var description: String { name }
}
