/// Bad input to the QKD module: which parameter, and why. Thrown before any work is done, never a
/// crash and never an empty key.
public struct QKDError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The parameter at fault, as named in the API (for example `noise` or `epsilonSecurity`).
    public let parameter: String
    /// Why the value is refused.
    public let reason: String

    /// An error about `parameter`.
    public init(parameter: String, reason: String) {
        self.parameter = parameter
        self.reason = reason
    }

    /// "invalid <parameter>: <reason>".
    public var description: String { "invalid \(parameter): \(reason)" }

    /// Refuses a probability outside `[0, 1]` (or NaN).
    static func checkProbability(_ value: Double, _ name: String) throws(QKDError) {
        guard value.isFinite, value >= 0, value <= 1 else {
            throw QKDError(parameter: name, reason: "\(value) is not a probability in [0, 1]")
        }
    }

    /// Refuses a value outside the open interval `(0, 1)` (or NaN).
    static func checkOpenUnit(_ value: Double, _ name: String) throws(QKDError) {
        guard value.isFinite, value > 0, value < 1 else {
            throw QKDError(parameter: name, reason: "\(value) must lie strictly between 0 and 1")
        }
    }
}
