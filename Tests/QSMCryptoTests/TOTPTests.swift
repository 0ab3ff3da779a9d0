import Foundation
import QSMCrypto
import Testing

/// TOTP (RFC 6238) against the published vectors of its Appendix B, base32 (RFC 4648 section 10), the
/// otpauth URI, and recovery codes.
@Suite struct TOTPTests {
    /// RFC 6238 Appendix B: Unix time, then the 8-digit codes for SHA-1 (seed "12345678901234567890")
    /// and SHA-256 (seed "12345678901234567890123456789012"), period 30 s, T0 = 0.
    static let vectors: [(time: Int64, sha1: String, sha256: String)] = [
        (59, "94287082", "46119246"),
        (1_111_111_109, "07081804", "68084774"),
        (1_111_111_111, "14050471", "67062674"),
        (1_234_567_890, "89005924", "91819424"),
        (2_000_000_000, "69279037", "90698825"),
        (20_000_000_000, "65353130", "77737706"),
    ]

    @Test(arguments: 0..<vectors.count)
    func rfc6238AppendixB(index: Int) {
        let vector = Self.vectors[index]
        let sha1 = TOTP(secret: SecretBytes(copying: Data("12345678901234567890".utf8)), algorithm: .sha1, digits: 8)
        let sha256 = TOTP(
            secret: SecretBytes(copying: Data("12345678901234567890123456789012".utf8)), algorithm: .sha256, digits: 8)
        #expect(sha1.code(step: sha1.step(atUnixSeconds: vector.time)) == vector.sha1)
        #expect(sha256.code(step: sha256.step(atUnixSeconds: vector.time)) == vector.sha256)
        // Six digits are the low six of the eight (what authenticator apps show).
        let six = TOTP(secret: SecretBytes(copying: Data("12345678901234567890".utf8)))
        #expect(six.code(step: six.step(atUnixSeconds: vector.time)) == String(vector.sha1.suffix(6)))
    }

    @Test func aCodeMatchesItsStepWithinOneStepEitherSideOnly() {
        let totp = TOTP(secret: SecretBytes(copying: Data("12345678901234567890".utf8)))
        let step = totp.step(atUnixSeconds: 1_234_567_890)
        let code = totp.code(step: step)
        #expect(totp.matchingStep(of: code, around: step) == step)
        #expect(totp.matchingStep(of: code, around: step + 1) == step)
        #expect(totp.matchingStep(of: code, around: step - 1) == step)
        #expect(totp.matchingStep(of: code, around: step + 2) == nil)
        #expect(totp.matchingStep(of: code, around: step - 2) == nil)
        #expect(totp.matchingStep(of: "12345", around: step) == nil)
    }

    @Test func base32AndTheURI() {
        // RFC 4648 section 10.
        for (plain, encoded) in [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"),
                                 ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")] {
            #expect(Base32.encode(Data(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Data(plain.utf8))
        }
        #expect(Base32.decode("MZ1") == nil)
        let totp = TOTP(secret: SecretBytes(copying: Data("12345678901234567890".utf8)))
        #expect(totp.uri(issuer: "qsm", account: "alice.b")
            == "otpauth://totp/qsm:alice.b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=qsm")
    }

    @Test func recoveryCodesAreTenDistinctWellFormedCodesAndHashPerUser() {
        let codes = RecoveryCodes.generate()
        #expect(codes.count == 10 && Set(codes).count == 10)
        for code in codes {
            #expect(code.count == 11 && code.split(separator: "-").count == 2)
            #expect(RecoveryCodes.normalized(code) != nil)
            #expect(RecoveryCodes.normalized(code.uppercased()) == RecoveryCodes.normalized(code))
        }
        #expect(RecoveryCodes.normalized("abcde-fghi") == nil)  // nine characters
        #expect(RecoveryCodes.normalized("abcde-fgh0i") == nil)  // 0 is not in the alphabet
        let key = MasterKey.ephemeral()
        let hash = RecoveryCodes.hash(codes[3], username: "alice", masterKey: key)!
        #expect(RecoveryCodes.hash(codes[3], username: "bob", masterKey: key) != hash)
        let stored = codes.map { RecoveryCodes.hash($0, username: "alice", masterKey: key).map(HexBytes.encode) ?? "" }
        #expect(RecoveryCodes.index(of: hash, in: stored) == 3)
        #expect(RecoveryCodes.index(of: hash, in: stored.enumerated().map { $0.offset == 3 ? "" : $0.element }) == nil)
    }
}
