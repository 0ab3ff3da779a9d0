public import Foundation
internal import Crypto

/// Time-based one-time passwords (RFC 6238): HOTP (RFC 4226) over the number of `period`-second steps
/// since the Unix epoch, with HMAC-SHA1 (what authenticator apps use by default) or HMAC-SHA256.
public struct TOTP: Sendable {
    /// The HMAC hash function.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
    }

    private let secret: SecretBytes
    /// The hash function.
    public let algorithm: Algorithm
    /// Digits in a code (6 for authenticator apps; RFC 6238's vectors use 8).
    public let digits: Int
    /// Seconds in a step.
    public let period: Int64

    /// The length of the secrets the broker draws: 160 bits, RFC 4226's recommendation and SHA-1's size.
    public static let secretByteCount = 20

    /// A generator for `secret`.
    /// - Parameters:
    ///   - digits: 6 to 8 (RFC 4226 allows no fewer than 6; more than 8 overflows its 31-bit number).
    ///   - period: seconds per step, at least 1.
    public init(secret: SecretBytes, algorithm: Algorithm = .sha1, digits: Int = 6, period: Int64 = 30) {
        precondition((6...8).contains(digits) && period >= 1, "TOTP: 6 to 8 digits and a period of at least 1 s")
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
    }

    /// The step that `unixSeconds` falls in.
    public func step(atUnixSeconds unixSeconds: Int64) -> Int64 {
        unixSeconds >= 0 ? unixSeconds / period : (unixSeconds - period + 1) / period
    }

    /// The code of `step`, zero-padded to `digits`.
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac: [UInt8] = secret.withUnsafeBytes { raw in
            let key = SymmetricKey(data: raw)
            switch algorithm {
            case .sha1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
            case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            }
        }
        // RFC 4226 section 5.3: dynamic truncation to 31 bits, then the low `digits` decimal digits.
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let number = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(number % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step within `window` steps either side of `step` whose code is `code`, or nil. Every candidate
    /// is computed and compared in constant time, so how long this takes says nothing about which step
    /// matched, or whether one did.
    public func matchingStep(of code: String, around step: Int64, window: Int64 = 1) -> Int64? {
        let presented = Data(code.utf8)
        var match: Int64?
        for candidate in (step - window)...(step + window) {
            let expected = Data(self.code(step: candidate).utf8)
            let equal = expected.count == presented.count && expected.withUnsafeBytes { a in
                presented.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) }
            }
            if equal && match == nil { match = candidate }
        }
        return match
    }

    /// Whether `text` has the form of a code: exactly `digits` ASCII digits.
    public static func isWellFormed(_ text: String, digits: Int = 6) -> Bool {
        text.utf8.count == digits && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// The `otpauth://totp/` URI authenticator apps read (Google Authenticator's key URI format), with the
    /// secret in unpadded base32. It carries the secret: show it once, never log or store it.
    public func uri(issuer: String, account: String) -> String {
        let label = Self.percentEncoded(issuer) + ":" + Self.percentEncoded(account)
        let base32 = secret.withUnsafeBytes { Base32.encode(Data($0)) }
        var uri = "otpauth://totp/\(label)?secret=\(base32)&issuer=\(Self.percentEncoded(issuer))"
        if algorithm != .sha1 { uri += "&algorithm=\(algorithm.rawValue)" }
        if digits != 6 { uri += "&digits=\(digits)" }
        if period != 30 { uri += "&period=\(period)" }
        return uri
    }

    private static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// RFC 4648 base32 without padding (how otpauth URIs carry secrets).
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// `data` in upper-case base32, without `=` padding.
    public static func encode(_ data: Data) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of unpadded or padded base32 (either case), or nil when it is not base32.
    public static func decode(_ text: String) -> Data? {
        var out = Data()
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }
}
