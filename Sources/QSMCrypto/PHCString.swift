public import Foundation

/// A parsed Argon2id PHC string: `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>`, where salt
/// and hash are unpadded standard base64. The hash part is optional (a KDF description has none).
public struct PHCString: Sendable, Hashable {
    /// The cost parameters it carries.
    public var cost: Argon2Cost
    /// The salt (not secret).
    public var salt: Data
    /// The hash, if the string carries one.
    public var hash: Data?

    /// Parses and validates `text`; every malformation is a ``QSMCryptoError/malformedPHCString(reason:)``
    /// that names the part at fault and never quotes the string (its hash is password-derived).
    public init(parsing text: String, requireHash: Bool = true) throws(QSMCryptoError) {
        guard text.utf8.count <= 512 else { throw .malformedPHCString(reason: "longer than 512 bytes") }
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5 || fields.count == 6, fields[0].isEmpty else {
            throw .malformedPHCString(reason: "expected $argon2id$v=19$m=…,t=…,p=…$salt[$hash]")
        }
        guard fields[1] == "argon2id" else { throw .malformedPHCString(reason: "algorithm is not argon2id") }
        guard fields[2] == "v=19" else { throw .malformedPHCString(reason: "version is not v=19") }
        let parameters = fields[3].split(separator: ",", omittingEmptySubsequences: false)
        guard parameters.count == 3 else { throw .malformedPHCString(reason: "expected m=…,t=…,p=…") }
        let m = try Self.number(parameters[0], named: "m")
        let t = try Self.number(parameters[1], named: "t")
        let p = try Self.number(parameters[2], named: "p")
        guard let salt = Self.decodeBase64(fields[4]), salt.count >= 8, salt.count <= 64 else {
            throw .malformedPHCString(reason: "salt is not 8 to 64 bytes of unpadded base64")
        }
        var hash: Data? = nil
        if fields.count == 6 {
            guard let decoded = Self.decodeBase64(fields[5]), decoded.count >= 16, decoded.count <= 64 else {
                throw .malformedPHCString(reason: "hash is not 16 to 64 bytes of unpadded base64")
            }
            hash = decoded
        } else if requireHash {
            throw .malformedPHCString(reason: "hash part missing")
        }
        self.cost = Argon2Cost(memoryKiB: m, iterations: t, parallelism: p)
        self.salt = salt
        self.hash = hash
        do { _ = try cost.sodiumLimits() } catch { throw .malformedPHCString(reason: error.description) }
    }

    /// A description without a hash (for a password-derived wrapping key).
    public init(cost: Argon2Cost, salt: Data) {
        self.cost = cost
        self.salt = salt
        self.hash = nil
    }

    /// The canonical text.
    public var text: String {
        var result = "$argon2id$v=19$\(cost)$\(Self.encodeBase64(salt))"
        if let hash { result += "$" + Self.encodeBase64(hash) }
        return result
    }

    private static func number(_ field: Substring, named name: String) throws(QSMCryptoError) -> UInt32 {
        guard field.hasPrefix(name + "=") else { throw .malformedPHCString(reason: "expected \(name)=") }
        let digits = field.dropFirst(name.count + 1)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits.first != "0" || digits.count == 1, let value = UInt32(digits)
        else { throw .malformedPHCString(reason: "\(name) is not a decimal number below 2^32") }
        return value
    }

    static func encodeBase64(_ data: Data) -> String {
        var text = data.base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decodeBase64(_ field: Substring) -> Data? {
        guard !field.isEmpty,
            field.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2F }),
            field.count % 4 != 1
        else { return nil }
        let padded = String(field) + String(repeating: "=", count: (4 - field.count % 4) % 4)
        return Data(base64Encoded: padded)
    }
}
