import Crypto
import Foundation
import QSMCrypto
import Testing

@Suite struct SessionTokenTests {
    @Test func tokensAre256RandomBitsInBase64URL() throws {
        var seen = Set<String>()
        for _ in 0..<200 {
            let token = SessionToken()
            let text = token.transportEncoding
            #expect(text.count == 43)
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(seen.insert(text).inserted)
            let parsed = try SessionToken(transportEncoding: text)
            #expect(parsed.transportEncoding == text)
            #expect(parsed.sessionID == token.sessionID)
        }
    }

    /// The match goes through ConstantTime.equal; whether that leaks timing is `tools/bench consttime`'s
    /// measurement (ConstantTimeTests checks its answers and that the measurement can see a leak).
    @Test func onlyTheHashIsStoredAndMatchesItsSessionID() throws {
        let token = SessionToken()
        let raw = Data(base64Encoded: token.transportEncoding.replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/") + "=")!
        #expect(raw.count == 32)
        #expect(token.sessionID == Data(SHA256.hash(data: raw)))
        #expect(token.sessionID != raw)
        let record = SessionRecord(token: token, issuedAtMicroseconds: 1_000, lifetimeMicroseconds: 500)
        #expect(record.sessionID == token.sessionID)
        #expect(token.matches(sessionID: record.sessionID))
        #expect(!SessionToken().matches(sessionID: record.sessionID))
        #expect(!token.matches(sessionID: Data()))
    }

    @Test func sessionsExpire() {
        let record = SessionRecord(token: SessionToken(), issuedAtMicroseconds: 1_000, lifetimeMicroseconds: 500)
        #expect(record.expiresAtMicroseconds == 1_500)
        #expect(!record.isExpired(atMicroseconds: 1_000))
        #expect(!record.isExpired(atMicroseconds: 1_499))
        #expect(record.isExpired(atMicroseconds: 1_500))
        #expect(record.isExpired(atMicroseconds: 9_999))
        let forever = SessionRecord(token: SessionToken(), issuedAtMicroseconds: .max - 1, lifetimeMicroseconds: 10)
        #expect(forever.expiresAtMicroseconds == .max)
    }

    @Test(arguments: [
        "", "abc", String(repeating: "A", count: 42), String(repeating: "A", count: 44),
        String(repeating: "A", count: 42) + "=", String(repeating: "A", count: 42) + "+",
        String(repeating: "A", count: 42) + "/", String(repeating: "A", count: 42) + "B",  // non-canonical tail
        String(repeating: "é", count: 43),
    ])
    func malformedTokensAreTyped(text: String) {
        #expect(throws: QSMCryptoError.malformedSessionToken) { try SessionToken(transportEncoding: text) }
    }
}
