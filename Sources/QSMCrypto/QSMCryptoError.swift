/// Everything that can go wrong in QSMCrypto. Each case says what is wrong in terms a caller can act on;
/// none carries a secret (no key, password, token, pad or plaintext byte), so any of them may be logged.
public enum QSMCryptoError: Error, Sendable, Hashable {
    // Passwords and key derivation.
    /// A stored password hash or KDF string is not a well-formed Argon2id PHC string.
    case malformedPHCString(reason: String)
    /// The configured Argon2id cost is below the OWASP floor and the test-only exemption was not given.
    case costBelowFloor(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32)
    /// The Argon2id cost is outside what libsodium supports (or parallelism is not 1).
    case unsupportedCost(reason: String)
    /// libsodium could not compute Argon2id (usually: not enough memory for the configured cost).
    case passwordHashingFailed

    // Session tokens.
    /// A session token is not 43 characters of unpadded base64url encoding 32 bytes.
    case malformedSessionToken

    // Key files.
    /// A key file is readable or writable by group or others; its mode is given in octal.
    case keyFileTooOpen(path: String, mode: UInt32)
    /// A key file could not be opened or read; `reason` is the system's explanation.
    case keyFileUnreadable(path: String, reason: String)
    /// A key file is not a regular file (a directory, a device, a symbolic link).
    case keyFileNotRegular(path: String)
    /// A key file has the wrong length.
    case keyFileWrongSize(path: String, expected: Int, actual: Int)
    /// A key file could not be created; nothing was left behind at `path`.
    case keyFileNotCreated(path: String, reason: String)

    // Wrapping.
    /// A secret was wrapped under a different key than the one asked to unwrap it.
    case wrongWrappingKey(expected: String, found: String)
    /// A wrapped secret did not authenticate: wrong key or password, different context, or altered bytes.
    case unwrapFailed(keyID: String)
    /// A wrapped secret's fields are malformed (algorithm, nonce length, sealed length).
    case malformedWrappedSecret(reason: String)
    /// A key or secret has the wrong number of bytes.
    case wrongKeySize(expected: Int, actual: Int)

    // Messages.
    /// A sealed message did not authenticate: wrong key, changed associated data, or altered bytes.
    case authenticationFailed
    /// A sealed message (or its tag, nonce or encapsulated key) is shorter or longer than the format allows.
    case malformedCiphertext(reason: String)
    /// A public key could not be parsed.
    case invalidPublicKey
    /// The underlying cryptographic library refused an operation (described without data).
    case primitiveFailed(operation: String)

    // Key pools.
    /// The pool has fewer unconsumed bits than needed: run another key exchange first.
    case poolTooShort(neededBits: UInt64, availableBits: UInt64)
    /// A range was already consumed (or overlaps a consumed range): pool bits are never used twice.
    case rangeAlreadyConsumed(start: UInt64, length: UInt64)
    /// A range is not covered by the pool's segments, or is not byte-aligned.
    case rangeOutsidePool(start: UInt64, length: UInt64)
    /// A range asked to open with was never recorded as consumed.
    case rangeNotConsumed(start: UInt64, length: UInt64)
    /// A new segment does not start at or after the pool's end on a byte boundary, or repeats a key id.
    case segmentOutOfOrder(keyID: String, start: UInt64, expectedAtLeast: UInt64)
    /// A reservation or nonce was used with a pool, block or key it does not belong to.
    case mismatchedKeyMaterial(reason: String)

    // aes mode.
    /// The aes block reached its message count or age limit: start a new block.
    case aesBlockExhausted(messages: UInt64, ageMicroseconds: Int64)
    /// A block counter was recorded out of order (a second use of a nonce under one key).
    case aesCounterReused(counter: UInt64, expected: UInt64)
}

extension QSMCryptoError: CustomStringConvertible {
    /// A sentence naming what is wrong; never contains secret material.
    public var description: String {
        switch self {
        case .malformedPHCString(let reason): "malformed Argon2id PHC string: \(reason)"
        case .costBelowFloor(let m, let t, let p):
            "Argon2id cost m=\(m) KiB, t=\(t), p=\(p) is below the OWASP floor (m=19456, t=2, p=1); "
                + "a cheaper cost is allowed only where tests explicitly enable it"
        case .unsupportedCost(let reason): "unsupported Argon2id cost: \(reason)"
        case .passwordHashingFailed: "Argon2id failed (not enough memory for the configured cost?)"
        case .malformedSessionToken: "malformed session token: expected 43 characters of unpadded base64url"
        case .keyFileTooOpen(let path, let mode):
            "key file \(path) has mode \(String(mode, radix: 8)): it must not be readable or writable by group "
                + "or others; run `chmod 600 \(path)` after checking nobody copied it"
        case .keyFileUnreadable(let path, let reason): "cannot read key file \(path): \(reason)"
        case .keyFileNotRegular(let path): "key file \(path) is not a regular file"
        case .keyFileWrongSize(let path, let expected, let actual):
            "key file \(path) holds \(actual) bytes, expected \(expected): truncated or not a key file"
        case .keyFileNotCreated(let path, let reason): "cannot create key file \(path): \(reason)"
        case .wrongWrappingKey(let expected, let found):
            "secret was wrapped under key \(found), not under \(expected)"
        case .unwrapFailed(let keyID):
            "wrapped secret did not authenticate under key \(keyID) (wrong key or password, or altered)"
        case .malformedWrappedSecret(let reason): "malformed wrapped secret: \(reason)"
        case .wrongKeySize(let expected, let actual): "key has \(actual) bytes, expected \(expected)"
        case .authenticationFailed:
            "message did not authenticate (wrong key, changed associated data, or altered ciphertext)"
        case .malformedCiphertext(let reason): "malformed ciphertext: \(reason)"
        case .invalidPublicKey: "invalid public key"
        case .primitiveFailed(let operation): "cryptographic operation failed: \(operation)"
        case .poolTooShort(let needed, let available):
            "key pool too short: \(needed) bits needed, \(available) available; run another key exchange"
        case .rangeAlreadyConsumed(let start, let length):
            "pool range [\(start), \(start + length)) was already consumed; pool bits are never reused"
        case .rangeOutsidePool(let start, let length):
            "pool range [\(start), \(start + length)) is not byte-aligned inside the pool's segments"
        case .rangeNotConsumed(let start, let length):
            "pool range [\(start), \(start + length)) was never recorded as consumed"
        case .segmentOutOfOrder(let keyID, let start, let expected):
            "pool segment \(keyID) at bit \(start) must start on a byte boundary at or after bit \(expected), "
                + "with a key id not already in the pool"
        case .mismatchedKeyMaterial(let reason): "key material mismatch: \(reason)"
        case .aesBlockExhausted(let messages, let age):
            "aes block exhausted after \(messages) messages and \(age) µs: start a new block"
        case .aesCounterReused(let counter, let expected):
            "aes block counter \(counter) recorded where \(expected) was next: a nonce would repeat"
        }
    }
}
