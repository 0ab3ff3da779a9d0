import Testing
@testable import Varlink

@Suite("JSON")
struct JSONTests {
    private func parse(_ text: String, depth: Int = 64) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8), maxDepth: depth)
    }

    @Test func parsesValues() throws {
        #expect(try parse(#" {"a": [1, -2.5, 1e3, true, false, null, "x"]} "#) == [
            "a": [1, -2.5, 1000.0, true, false, nil, "x"],
        ])
        #expect(try parse(#""\u00e9\ud83d\ude00\n\"\\\/""#) == .string("é😀\n\"\\/"))
        #expect(try parse("9223372036854775807") == .int(Int.max))
        #expect(try parse("9223372036854775808") == .double(9223372036854775808.0))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\u{01}\"", "[1] 2", "\"\\x\"", "1e999"])
    func rejectsSyntaxErrors(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func rejectsAMemberNamedTwice() throws {
        #expect(throws: JSONParseError.duplicateKey("method", offset: 30)) {
            try parse(#"{"method": "io.qsm.Broker.A", "method": "io.qsm.Admin.B"}"#)
        }
        #expect(throws: JSONParseError.duplicateKey("a", offset: 15)) { try parse(#"{"o": {"a": 1, "a": 1}}"#) }
        // The same name in different objects is fine.
        #expect(try parse(#"{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}"#) != .null)
    }

    @Test func rejectsInvalidUTF8AndLoneSurrogates() {
        #expect(throws: JSONParseError.invalidUTF8(offset: 1)) {
            try JSONParser.parse([0x22, 0xFF, 0x22], maxDepth: 8)
        }
        #expect(throws: JSONParseError.self) { try parse(#""\ud83d""#) }
        #expect(throws: JSONParseError.self) { try parse(#""\ude00""#) }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.tooDeep(limit: 64)) { try parse(deep) }
        let fine = String(repeating: "{\"a\":", count: 64) + "1" + String(repeating: "}", count: 64)
        #expect(throws: Never.self) { try parse(fine) }
    }

    @Test func writesWhatItReads() throws {
        let value: JSONValue = ["pi": 3.141592653589793, "s": "tab\tquote\"nul\u{0}é", "n": nil, "a": [1, 2.0, false]]
        #expect(try parse(value.jsonText) == value)
        #expect(JSONValue.double(.nan).jsonText == "null")
        #expect(JSONValue.object(["b": 1, "a": 2]).jsonText == #"{"a":2,"b":1}"#)
    }
}
