public import Foundation

/// Single-use recovery codes for when the authenticator is lost: ten codes of ten characters from an
/// alphabet without look-alikes (49 bits each), shown as `xxxxx-xxxxx`. The broker keeps only a keyed
/// hash of each (``hash(_:username:masterKey:)``), so the log alone does not let anyone test guesses.
public enum RecoveryCodes {
    /// How many codes a set holds.
    public static let count = 10
    /// Characters per code, without the dash.
    public static let length = 10
    // 30 symbols: digits and lower-case letters without the look-alikes 0/o, 1/l/i and u.
    private static let alphabet = Array("23456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A fresh set of `count` codes, formatted for people.
    public static func generate() -> [String] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            let symbols = (0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] }
            let text = String(decoding: symbols, as: UTF8.self)
            return String(text.prefix(length / 2)) + "-" + String(text.suffix(length / 2))
        }
    }

    /// The code as compared: lower case, without dashes or spaces; nil when it cannot be a recovery code.
    public static func normalized(_ text: String) -> String? {
        let kept = text.lowercased().utf8.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: " ") }
        guard kept.count == length, kept.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return String(decoding: kept, as: UTF8.self)
    }

    /// The keyed hash the broker stores for `code` of `username` (HMAC-SHA256 under a key derived from the
    /// master key, bound to the user); nil when `code` is not a recovery code.
    public static func hash(_ code: String, username: String, masterKey: MasterKey) -> Data? {
        guard let normalized = normalized(code) else { return nil }
        return masterKey.authenticationCode(for: Data(normalized.utf8), context: "qsm-recovery-code-v1:" + username)
    }

    /// The index of `hash` among `stored` (hex; spent codes are empty), compared in constant time, or nil.
    public static func index(of hash: Data, in stored: [String]) -> Int? {
        var found: Int?
        for (index, candidate) in stored.enumerated() {
            guard let bytes = HexBytes.decode(candidate), bytes.count == hash.count else { continue }
            let equal = bytes.withUnsafeBytes { a in hash.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
            if equal && found == nil { found = index }
        }
        return found
    }
}

/// Lower-case hex, for hashes kept in JSON state.
public enum HexBytes {
    /// `data` as lower-case hex.
    public static func encode(_ data: Data) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }

    /// The bytes of even-length hex, or nil.
    public static func decode(_ text: String) -> Data? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out = Data(capacity: digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
