internal import CSodium
public import Foundation

/// The Poly1305 one-time authenticator (RFC 8439, section 2.5) from libsodium. A key must authenticate
/// one message only: in mode otp each key is 32 fresh bytes from the pair's pool (Wegman-Carter).
public enum Poly1305 {
    /// Key length in bytes.
    public static let keyByteCount = 32
    /// Tag length in bytes.
    public static let tagByteCount = 16

    /// The tag of `message` under the one-time `key`.
    /// - Throws: ``QSMCryptoError/wrongKeySize(expected:actual:)``.
    public static func authenticate(_ message: some DataProtocol, key: SecretBytes) throws(QSMCryptoError) -> Data {
        guard key.count == keyByteCount else { throw .wrongKeySize(expected: keyByteCount, actual: key.count) }
        return key.withUnsafeBytes { keyBytes in
            var state = State(key: keyBytes)
            state.update(message)
            return state.finish()
        }
    }

    /// Whether `tag` is the tag of `message` under `key`, compared in constant time.
    public static func verify(_ tag: some DataProtocol, for message: some DataProtocol, key: SecretBytes) throws(QSMCryptoError) -> Bool {
        let expected = try authenticate(message, key: key)
        let given = Data(tag)
        return expected.withUnsafeBytes { a in given.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
    }

    /// Incremental Poly1305 over several pieces; zeroes its state when finished.
    struct State: ~Copyable {
        private let storage: UnsafeMutableRawBufferPointer

        init(key: UnsafeRawBufferPointer) {
            Sodium.ensureInitialised()
            precondition(key.count == keyByteCount)
            storage = .allocate(byteCount: crypto_onetimeauth_statebytes(), alignment: 64)
            crypto_onetimeauth_init(
                storage.baseAddress!.assumingMemoryBound(to: crypto_onetimeauth_state.self),
                key.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }

        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            crypto_onetimeauth_update(
                storage.baseAddress!.assumingMemoryBound(to: crypto_onetimeauth_state.self),
                base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
        }

        mutating func update(_ data: some DataProtocol) {
            for region in data.regions { region.withUnsafeBytes { update($0) } }
        }

        consuming func finish() -> Data {
            var tag = Data(count: tagByteCount)
            tag.withUnsafeMutableBytes { out in
                _ = crypto_onetimeauth_final(
                    storage.baseAddress!.assumingMemoryBound(to: crypto_onetimeauth_state.self),
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            return tag
        }

        deinit {
            Sodium.zero(storage)
            storage.deallocate()
        }
    }
}
