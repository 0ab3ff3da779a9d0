internal import CSodium
import Foundation

/// The outcome of checking a password against a stored PHC string.
public enum PasswordVerification: Sendable, Hashable {
    /// The password is wrong.
    case invalid
    /// The password is right; `needsRehash` says the stored cost is below the configured one, so the caller
    /// should store ``PasswordHasher/hash(_:)`` of the same password now (rehash on login).
    case valid(needsRehash: Bool)
}

/// Argon2id password hashing through libsodium, at a configured cost never below OWASP's floor outside
/// tests. Hashes are PHC strings carrying their parameters and a fresh 16-byte salt.
public struct PasswordHasher: Sendable, Hashable {
    /// The cost new hashes (and password-derived wrapping keys) are made with.
    public let cost: Argon2Cost

    /// A hasher at `cost`.
    /// - Parameters:
    ///   - cost: the Argon2id cost; defaults to ``Argon2Cost/owaspMinimum``.
    ///   - permitCostBelowFloorForTests: must be `true` for a cost below the OWASP floor (such as
    ///     ``Argon2Cost/cheapForTestsOnly``); never set it outside tests.
    /// - Throws: ``QSMCryptoError/costBelowFloor(memoryKiB:iterations:parallelism:)`` or
    ///   ``QSMCryptoError/unsupportedCost(reason:)``.
    public init(cost: Argon2Cost = .owaspMinimum, permitCostBelowFloorForTests: Bool = false) throws(QSMCryptoError) {
        _ = try cost.sodiumLimits()
        guard cost.isAtLeast(.owaspMinimum) || permitCostBelowFloorForTests else {
            throw .costBelowFloor(memoryKiB: cost.memoryKiB, iterations: cost.iterations, parallelism: cost.parallelism)
        }
        self.cost = cost
    }

    /// Hashes `password` with a fresh random salt at ``cost``.
    /// - Returns: `$argon2id$v=19$m=…,t=…,p=1$<salt>$<hash>`.
    public func hash(_ password: String) throws(QSMCryptoError) -> String {
        let limits = try cost.sodiumLimits()
        Sodium.ensureInitialised()
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()))
        let status = Self.withPasswordBytes(password) { passwordBytes, length in
            crypto_pwhash_str_alg(
                &output, passwordBytes, length, limits.opslimit, limits.memlimit, crypto_pwhash_alg_argon2id13())
        }
        guard status == 0 else { throw .passwordHashingFailed }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Checks `password` against `stored` in constant time (libsodium recomputes and compares).
    /// - Returns: ``PasswordVerification/invalid`` for a wrong password; for a right one, whether the stored
    ///   cost is below ``cost`` and the hash should be replaced.
    /// - Throws: ``QSMCryptoError/malformedPHCString(reason:)`` when `stored` is not an Argon2id PHC string.
    public func verify(_ password: String, against stored: String) throws(QSMCryptoError) -> PasswordVerification {
        let parsed = try PHCString(parsing: stored)
        Sodium.ensureInitialised()
        let status = stored.withCString { storedC in
            Self.withPasswordBytes(password) { passwordBytes, length in
                crypto_pwhash_str_verify(storedC, passwordBytes, length)
            }
        }
        guard status == 0 else { return .invalid }
        return .valid(needsRehash: needsRehash(parsed))
    }

    /// Whether a stored hash's cost is below ``cost`` (in memory or passes).
    public func needsRehash(_ stored: PHCString) -> Bool { !stored.cost.isAtLeast(cost) }

    /// Raw Argon2id: a 32-byte key from `password` and a 16-byte `salt` at `cost` (for wrapping keys).
    static func deriveKey(password: String, salt: Data, cost: Argon2Cost) throws(QSMCryptoError) -> SecretBytes {
        let limits = try cost.sodiumLimits()
        guard salt.count == Int(crypto_pwhash_saltbytes()) else {
            throw .malformedPHCString(reason: "KDF salt is \(salt.count) bytes, expected \(crypto_pwhash_saltbytes())")
        }
        let saltBytes = [UInt8](salt)
        var failed = false
        let key = SecretBytes(uninitializedCount: 32) { out in
            let status = withPasswordBytes(password) { passwordBytes, length in
                crypto_pwhash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), 32, passwordBytes, length, saltBytes,
                    limits.opslimit, limits.memlimit, crypto_pwhash_alg_argon2id13())
            }
            failed = status != 0
        }
        if failed { throw .passwordHashingFailed }
        return key
    }

    /// Calls `body` with the password's UTF-8 bytes (never a null pointer) and their count, then zeroes the copy.
    private static func withPasswordBytes<R>(_ password: String, _ body: (UnsafePointer<CChar>, UInt64) -> R) -> R {
        var bytes = Array(password.utf8CString)  // NUL-terminated, so never empty
        defer { bytes.withUnsafeMutableBytes { Sodium.zero($0) } }
        return bytes.withUnsafeBufferPointer { body($0.baseAddress!, UInt64(password.utf8.count)) }
    }
}
