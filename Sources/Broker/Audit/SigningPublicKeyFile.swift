public import Foundation

/// The broker's checkpoint-signing public key as a PEM "PUBLIC KEY" (an X.509 SubjectPublicKeyInfo with
/// the ML-DSA-65 algorithm identifier of RFC 9881), so auditors can keep it, compare it, and read it with
/// other tools (`openssl pkey -pubin -text` on OpenSSL 3.5 and later).
public enum SigningPublicKeyFile {
    /// id-ml-dsa-65 (2.16.840.1.101.3.4.3.18), DER, with no parameters.
    static let algorithmIdentifier: [UInt8] = [0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12]
    /// An ML-DSA-65 public key's length (FIPS 204).
    public static let publicKeyBytes = 1952

    /// The PEM text for `publicKey`.
    public static func pem(for publicKey: Data) -> String {
        let bitString = [0x03] + derLength(publicKey.count + 1) + [0x00] + Array(publicKey)
        let body = algorithmIdentifier + bitString
        let der = [0x30] + derLength(body.count) + body
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN PUBLIC KEY-----\n\(base64)\n-----END PUBLIC KEY-----\n"
    }

    /// The raw public key in PEM `text`; throws with a reason when it is not an ML-DSA-65 public key.
    public static func publicKey(fromPEM text: String) throws(SigningPublicKeyError) -> Data {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN PUBLIC KEY-----"),
              let end = lines.firstIndex(of: "-----END PUBLIC KEY-----"), begin < end
        else { throw SigningPublicKeyError(reason: "no -----BEGIN PUBLIC KEY----- block") }
        guard let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else {
            throw SigningPublicKeyError(reason: "the PEM block is not base64")
        }
        let expectedPrefix = [0x30] + derLength(algorithmIdentifier.count + 4 + 1 + publicKeyBytes) + algorithmIdentifier
            + [0x03] + derLength(publicKeyBytes + 1) + [0x00]
        guard der.count == expectedPrefix.count + publicKeyBytes, der.starts(with: expectedPrefix) else {
            throw SigningPublicKeyError(reason: "not an ML-DSA-65 public key (SubjectPublicKeyInfo, RFC 9881)")
        }
        return der.suffix(publicKeyBytes)
    }

    /// Reads a PEM public key file.
    public static func read(path: String) throws(SigningPublicKeyError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigningPublicKeyError(reason: "cannot read \(path)")
        }
        do { return try publicKey(fromPEM: String(decoding: data, as: UTF8.self)) } catch {
            throw SigningPublicKeyError(reason: "\(path): \(error.reason)")
        }
    }

    /// DER definite length: short form below 128, else 0x80 | byte count, big-endian.
    static func derLength(_ length: Int) -> [UInt8] {
        if length < 0x80 { return [UInt8(length)] }
        var bytes: [UInt8] = []
        var rest = length
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }
}

/// A public key file or text that is not an ML-DSA-65 public key.
public struct SigningPublicKeyError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { "public key: \(reason)" }
}
