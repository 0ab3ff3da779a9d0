import Crypto
import Foundation

/// AES-256-GCM wrapping shared by the master key and password-derived keys. The associated data binds
/// the key id and a caller's context (such as a pool segment's key id), length-prefixed so that no two
/// (key id, context) pairs encode alike.
enum SecretWrapping {
    static func associatedData(keyID: String, context: String) -> Data {
        var data = Data("qsm-wrap-v1".utf8)
        data.appendLengthPrefixed(Data(keyID.utf8))
        data.appendLengthPrefixed(Data(context.utf8))
        return data
    }

    static func wrap(
        _ secret: SecretBytes, key: SymmetricKey, keyID: String, context: String, kdf: String
    ) throws(QSMCryptoError) -> WrappedSecret {
        let box: AES.GCM.SealedBox
        do {
            box = try secret.withUnsafeBytes { bytes in
                try AES.GCM.seal(bytes, using: key, authenticating: associatedData(keyID: keyID, context: context))
            }
        } catch {
            throw .primitiveFailed(operation: "AES-256-GCM seal")
        }
        return WrappedSecret(
            keyID: keyID, algorithm: WrappedSecret.algorithmAES256GCM, nonce: Data(box.nonce),
            sealed: Data.joined(box.ciphertext, box.tag), kdf: kdf)
    }

    static func unwrap(
        _ wrapped: WrappedSecret, key: SymmetricKey, expectedKeyID: String, context: String
    ) throws(QSMCryptoError) -> SecretBytes {
        guard wrapped.keyID == expectedKeyID else {
            throw .wrongWrappingKey(expected: expectedKeyID, found: wrapped.keyID)
        }
        guard wrapped.algorithm == WrappedSecret.algorithmAES256GCM else {
            throw .malformedWrappedSecret(reason: "algorithm is not \(WrappedSecret.algorithmAES256GCM)")
        }
        guard wrapped.nonce.count == 12 else {
            throw .malformedWrappedSecret(reason: "nonce is \(wrapped.nonce.count) bytes, expected 12")
        }
        guard wrapped.sealed.count >= 16 else {
            throw .malformedWrappedSecret(reason: "sealed part is \(wrapped.sealed.count) bytes, shorter than the tag")
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: wrapped.nonce), ciphertext: wrapped.sealed.dropLast(16),
                tag: wrapped.sealed.suffix(16))
            var plain = try AES.GCM.open(
                box, using: key, authenticating: associatedData(keyID: wrapped.keyID, context: context))
            defer { plain.withUnsafeMutableBytes { Sodium.zero($0) } }
            return SecretBytes(copying: plain)
        } catch {
            throw .unwrapFailed(keyID: wrapped.keyID)
        }
    }
}

extension Data {
    /// `a` then `b` in a new buffer indexed from zero (slices keep their parent's indices; callers of this
    /// module's API get zero-based `Data`).
    static func joined(_ a: Data, _ b: Data) -> Data {
        var result = Data(capacity: a.count + b.count)
        result.append(a)
        result.append(b)
        return result
    }

    /// Appends a 4-byte big-endian length and then `bytes`.
    mutating func appendLengthPrefixed(_ bytes: Data) {
        var length = UInt32(truncatingIfNeeded: bytes.count).bigEndian
        Swift.withUnsafeBytes(of: &length) { append(contentsOf: $0) }
        append(bytes)
    }
}
