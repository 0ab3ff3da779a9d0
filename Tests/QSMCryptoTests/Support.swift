import Foundation
import Testing
import QSMCrypto

/// Bytes from a hex string (spaces allowed); traps on bad input (test data only).
func hex(_ text: String) -> Data {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0)
    return Data(stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! })
}

/// Lowercase hex of `data`.
func hexString(_ data: some DataProtocol) -> String { data.map { String(format: "%02x", $0) }.joined() }

/// The cheap Argon2id cost, explicitly enabled: every password test but the KAT and the default-cost one.
let cheapHasher = try! PasswordHasher(cost: .cheapForTestsOnly, permitCostBelowFloorForTests: true)

/// A message context for tests.
func context(_ id: UInt8 = 1, sender: String = "alice", recipient: String = "bob") -> MessageContext {
    MessageContext(messageID: Data(repeating: id, count: 16), sender: sender, recipient: recipient)
}

/// A pool for alice and bob with segments of the given bit lengths, random keys wrapped under `masterKey`.
func makePool(bits: [UInt64], masterKey: MasterKey, pair: UserPair = UserPair("alice", "bob")) throws -> KeyPool {
    var pool = KeyPool(pair: pair)
    for (index, count) in bits.enumerated() {
        let key = SecretBytes(randomCount: Int((count + 7) / 8))
        try pool.append(pool.makeSegment(keyID: "\(pair)-kx\(index)", key: key, bitCount: count, masterKey: masterKey))
    }
    return pool
}

/// Every form in which a value might be printed: description, reflection, dump.
func printedForms(_ value: Any) -> [String] {
    var dumped = ""
    dump(value, to: &dumped)
    return [String(describing: value), String(reflecting: value), dumped]
}

/// Encodings in which secret bytes could leak into text: hex (both cases), base64, base64url, and the raw
/// bytes as UTF-8 (when they happen to be printable).
func leakForms(of secret: Data) -> [String] {
    let lower = hexString(secret)
    var forms = [lower, lower.uppercased(), secret.base64EncodedString()]
    forms.append(forms[2].replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))
    // A shorter prefix catches partial leaks (first 8 bytes).
    if secret.count >= 8 { forms.append(hexString(secret.prefix(8))) }
    return forms.map { $0.replacingOccurrences(of: "=", with: "") }.filter { $0.count >= 12 }
}

/// Expects `body`, given the non-copyable `value`, to throw a ``QSMCryptoError`` (closures cannot consume
/// what they capture, so the value is passed in).
func expectRefused<T: ~Copyable>(
    _ value: consuming T, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (consuming T) throws -> Void
) {
    do {
        try body(value)
        Issue.record("expected a QSMCryptoError", sourceLocation: sourceLocation)
    } catch {
        #expect(error is QSMCryptoError, sourceLocation: sourceLocation)
    }
}
