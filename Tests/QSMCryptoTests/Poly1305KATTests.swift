import Foundation
import QSMCrypto
import Testing

/// Poly1305 through our wrapper against RFC 8439 (section 2.5.2 and appendix A.3).
@Suite struct Poly1305KATTests {
    static let ietf = Data(
        ("Any submission to the IETF intended by the Contributor for publication as all or part of an IETF "
            + "Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "
            + "\"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as written and "
            + "electronic communications made at any time or place, which are addressed to").utf8)

    static let vectors: [(name: String, key: String, message: Data, tag: String)] = [
        ("2.5.2", "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
            Data("Cryptographic Forum Research Group".utf8), "a8061dc1305136c6c22b8baf0c0127a9"),
        ("A.3 #1", String(repeating: "00", count: 32), Data(count: 64), "00000000000000000000000000000000"),
        ("A.3 #2", "0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e", ietf,
            "36e5f6b5c5e06070f0efca96227a863e"),
        ("A.3 #3", "36e5f6b5c5e06070f0efca96227a863e00000000000000000000000000000000", ietf,
            "f3477e7cd95417af89a6b8794c310cf0"),
        ("A.3 #4", "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
            hex("""
                2754776173206272696c6c69672c20616e642074686520736c6974687920746f
                7665730a446964206779726520616e642067696d626c6520696e207468652077
                6162653a0a416c6c206d696d737920776572652074686520626f726f676f7665
                732c0a416e6420746865206d6f6d65207261746873206f757467726162652e
                """), "4541669a7eaaee61e708dc7cbcc5eb62"),
        ("A.3 #5", "02" + String(repeating: "00", count: 31), hex(String(repeating: "ff", count: 16)),
            "03000000000000000000000000000000"),
        ("A.3 #6", "02" + String(repeating: "00", count: 15) + String(repeating: "ff", count: 16),
            hex("02" + String(repeating: "00", count: 15)), "03000000000000000000000000000000"),
        ("A.3 #9", "02" + String(repeating: "00", count: 31), hex("fd" + String(repeating: "ff", count: 15)),
            "faffffffffffffffffffffffffffffff"),
        ("A.3 #11", "0100000000000000040000000000000000000000000000000000000000000000",
            hex("e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000"),
            "13000000000000000000000000000000"),
    ]

    @Test(arguments: 0..<vectors.count)
    func rfc8439Vector(index: Int) throws {
        let vector = Self.vectors[index]
        let key = SecretBytes(copying: hex(vector.key))
        let tag = try Poly1305.authenticate(vector.message, key: key)
        #expect(hexString(tag) == vector.tag, "vector \(vector.name)")
        #expect(try Poly1305.verify(tag, for: vector.message, key: key))
        var altered = tag
        altered[0] ^= 1
        #expect(try !Poly1305.verify(altered, for: vector.message, key: key))
    }

    @Test func wrongKeySizeIsTyped() {
        #expect(throws: QSMCryptoError.wrongKeySize(expected: 32, actual: 16)) {
            try Poly1305.authenticate(Data(), key: SecretBytes(randomCount: 16))
        }
    }
}
