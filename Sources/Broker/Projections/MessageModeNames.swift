public import QSMEvents

extension QSMMessageMode {
    /// The mode's name as users write it: otp, aes or pqc.
    public var name: String {
        switch self {
        case .otp: "otp"
        case .aes: "aes"
        case .pqc: "pqc"
        default: "unspecified"
        }
    }

    /// The mode named `name` (otp, aes or pqc).
    public init?(name: String) {
        switch name {
        case "otp": self = .otp
        case "aes": self = .aes
        case "pqc": self = .pqc
        default: return nil
        }
    }
}
