public import Foundation
internal import Crypto

/// A session token: 256 random bits, handed to the client once as 43 characters of unpadded base64url.
///
/// The broker stores only ``sessionID`` (SHA-256 of the token's bytes) with an expiry; a presented token is
/// parsed with ``init(transportEncoding:)`` and looked up by its ``sessionID``. The token never prints.
public struct SessionToken: Sendable {
    private let secret: SecretBytes

    /// The number of random bytes in a token.
    public static let byteCount = 32

    /// A fresh random token.
    public init() {
        secret = SecretBytes(randomCount: Self.byteCount)
    }

    /// Parses a token as presented by a client.
    /// - Throws: ``QSMCryptoError/malformedSessionToken`` (the error does not repeat the input).
    public init(transportEncoding text: String) throws(QSMCryptoError) {
        // Decoded by hand: every call of the broker parses a token, and Foundation's string replacing
        // and base64 round trip cost more than the rest of a send.
        var bytes = [UInt8](repeating: 0, count: Self.byteCount)
        defer { bytes.withUnsafeMutableBytes { Sodium.zero($0) } }
        guard Self.decode(text.utf8, into: &bytes) else { throw .malformedSessionToken }
        secret = bytes.withUnsafeBytes { SecretBytes(copying: Data($0)) }
    }

    /// The value of one base64url character, or nil.
    private static func sextet(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x41...0x5A: UInt32(c - 0x41)
        case 0x61...0x7A: UInt32(c - 0x61 + 26)
        case 0x30...0x39: UInt32(c - 0x30 + 52)
        case 0x2D: 62
        case 0x5F: 63
        default: nil
        }
    }

    /// Decodes 43 characters of unpadded base64url into 32 bytes; false unless canonical (the two unused
    /// low bits of the last character are zero).
    private static func decode(_ text: String.UTF8View, into out: inout [UInt8]) -> Bool {
        guard text.count == 43 else { return false }
        var accumulator: UInt32 = 0
        var bits = 0
        var index = 0
        for character in text {
            guard let value = sextet(character) else { return false }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out[index] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                index += 1
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return index == byteCount && bits == 2 && accumulator == 0
    }

    /// The text to hand to the client, once. Never store or log it.
    public var transportEncoding: String {
        secret.withUnsafeBytes { Self.encode(Data($0)) }
    }

    /// SHA-256 of the token's 32 bytes: the only form of the token the broker stores (`session_id`).
    public var sessionID: Data {
        secret.withUnsafeBytes { Data(SHA256.hash(data: $0)) }
    }

    /// The token's bytes, for deriving keys that only its holder can rebuild.
    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try secret.withUnsafeBytes(body)
    }

    /// Whether this token belongs to the stored `sessionID`, compared in constant time.
    public func matches(sessionID stored: Data) -> Bool {
        let mine = sessionID
        return mine.withUnsafeBytes { a in stored.withUnsafeBytes { b in ConstantTime.equal(a, b) } }
    }

    private static func encode(_ bytes: Data) -> String {
        var text = bytes.base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}

extension SessionToken: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Redacted: a token never prints.
    public var description: String { "SessionToken(redacted)" }
    /// Redacted: a token never prints.
    public var debugDescription: String { description }
    /// No children.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// A session the broker records: the token's hash and when it stops being valid.
public struct SessionRecord: Sendable, Hashable {
    /// SHA-256 of the token (``SessionToken/sessionID``).
    public let sessionID: Data
    /// Issue time, microseconds since the Unix epoch (event time).
    public let issuedAtMicroseconds: Int64
    /// Expiry, microseconds since the Unix epoch.
    public let expiresAtMicroseconds: Int64

    /// A record for `token` issued at `issuedAt` and valid for `lifetime` microseconds.
    public init(token: SessionToken, issuedAtMicroseconds issuedAt: Int64, lifetimeMicroseconds lifetime: Int64) {
        sessionID = token.sessionID
        issuedAtMicroseconds = issuedAt
        expiresAtMicroseconds = issuedAt.addingReportingOverflow(max(lifetime, 0)).overflow
            ? .max : issuedAt + max(lifetime, 0)
    }

    /// A record rebuilt from an event.
    public init(sessionID: Data, issuedAtMicroseconds: Int64, expiresAtMicroseconds: Int64) {
        self.sessionID = sessionID
        self.issuedAtMicroseconds = issuedAtMicroseconds
        self.expiresAtMicroseconds = expiresAtMicroseconds
    }

    /// Whether the session has expired at `now` (expiry is exclusive: at `expiresAt` it is over).
    public func isExpired(atMicroseconds now: Int64) -> Bool { now >= expiresAtMicroseconds }

    /// The default lifetime: 12 hours.
    public static let defaultLifetimeMicroseconds: Int64 = 12 * 3600 * 1_000_000
}
