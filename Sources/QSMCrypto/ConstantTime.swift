/// Comparison of secret bytes in time that does not depend on where they differ.
///
/// Every check of a tag, MAC, token hash or key confirmation goes through this (or through libsodium's own
/// verifiers); `tools/bench consttime` measures it with a dudect-style timing test.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes, in time that depends only on their length (libsodium's
    /// `sodium_memcmp`). Different lengths are unequal at once: lengths are not secret here.
    public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        Sodium.constantTimeEqual(a, b)
    }
}
