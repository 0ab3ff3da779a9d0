public import Foundation

/// Secret bytes in memory: a key, a pad, a password-derived key.
///
/// The buffer is locked against swapping where the platform allows and overwritten with zeros when the last
/// reference goes. It never prints: `description`, `debugDescription` and reflection show only the length.
public final class SecretBytes: @unchecked Sendable {
    // Immutable after `init` (written only there), so sharing across threads is safe.
    private let buffer: UnsafeMutableRawBufferPointer

    /// The number of bytes.
    public var count: Int { used }

    /// Fresh random bytes from the operating system's generator.
    public convenience init(randomCount count: Int) {
        self.init(uninitializedCount: count) { Sodium.randomFill($0) }
    }

    /// A copy of `bytes`. The caller remains responsible for the source it copied from.
    public convenience init(copying bytes: some DataProtocol) {
        self.init(uninitializedCount: bytes.count) { destination in
            _ = bytes.copyBytes(to: destination)
        }
    }

    /// Allocates `count` bytes and lets `fill` write every one of them. When `fill` throws, the buffer is
    /// zeroed and freed before any property is set (so no `deinit` runs on it a second time).
    init<E: Error>(uninitializedCount count: Int, fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        Sodium.ensureInitialised()
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            try fill(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
        } catch {
            Sodium.zero(storage)
            storage.deallocate()
            throw error
        }
        buffer = storage
        used = count
    }

    private let used: Int

    deinit {
        Sodium.zero(buffer)
        buffer.deallocate()
    }

    /// Calls `body` with the bytes; the pointer must not escape it.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
    }

    /// Constant-time comparison with other secret bytes.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        withUnsafeBytes { a in other.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
    }
}

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Only the length: secret bytes never print.
    public var description: String { "SecretBytes(\(used) bytes, redacted)" }
    /// Only the length: secret bytes never print.
    public var debugDescription: String { description }
    /// No children: `dump` and debuggers see the length only.
    public var customMirror: Mirror { Mirror(self, children: ["count": used]) }
}
