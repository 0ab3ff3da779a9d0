internal import CSodium

/// The libsodium calls this module makes, behind one initialisation.
enum Sodium {
    /// `sodium_init` once per process; thread-safe (libsodium guards it itself, a static makes it cheap).
    private static let initialised: Bool = sodium_init() >= 0

    /// Initialises libsodium; traps if it cannot start (no usable randomness source), as nothing is safe then.
    static func ensureInitialised() {
        precondition(initialised, "libsodium failed to initialise")
    }

    /// Fills `buffer` with cryptographically secure random bytes.
    static func randomFill(_ buffer: UnsafeMutableRawBufferPointer) {
        ensureInitialised()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }

    /// `count` cryptographically secure random bytes (not secret-holding: for salts, ids and nonces).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randomFill($0) }
        return bytes
    }

    /// Overwrites `buffer` with zeros in a way the compiler may not remove.
    static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sodium_memzero(base, buffer.count)
    }

    /// Constant-time equality of two byte sequences of the same length; different lengths are unequal
    /// (the lengths themselves are not secret here).
    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }
}
