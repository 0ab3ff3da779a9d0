import Forensics
import Foundation
import Testing

@Suite("Canonical JSON and timestamps")
struct CanonicalJSONTests {
    private func written(_ body: (inout CanonicalJSON) -> Void) -> String {
        var json = CanonicalJSON()
        body(&json)
        // Always valid UTF-8, whatever went in.
        #expect(String(validating: json.bytes, as: UTF8.self) != nil)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    @Test func escapesQuotesBackslashesAndEveryControlCharacter() throws {
        let all = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let text = written { $0.string("a\"b\\c/é😀" + all + "\u{7F}") }
        let expected = "\"a\\\"b\\\\c/é😀\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            + "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
            + "\\u001d\\u001e\\u001f\u{7F}\""
        #expect(text == expected)
        // Foundation reads it back to the same string.
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [String]
        #expect(decoded == ["a\"b\\c/é😀" + all + "\u{7F}"])
    }

    @Test func replacesInvalidUTF8LikeSwiftsDecoder() {
        let cases: [[UInt8]] = [
            [0x61, 0xFF, 0x62], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xE2, 0x82, 0x28], [0xF0, 0x9F, 0x98],
            [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0x80, 0x80],
            [0xF0, 0x9F, 0x98, 0x80, 0xFE], Array("plain".utf8),
        ]
        for bytes in cases {
            let text = written { json in bytes.withUnsafeBufferPointer { json.string(utf8: $0) } }
            let expected = written { $0.string(String(decoding: bytes, as: UTF8.self)) }
            #expect(text == expected, "bytes \(bytes)")
        }
    }

    @Test func placesCommasAndWritesExactNumbers() {
        let text = written { json in
            json.beginObject()
            json.key("a"); json.number(UInt64.max)
            json.key("b"); json.number(Int64.min)
            json.key("c"); json.beginArray(); json.number(0.021); json.number(1e-05); json.number(1.0); json.number(1e16)
            json.number(Double.nan); json.null(); json.bool(true); json.beginObject(); json.endObject(); json.endArray()
            json.key("d"); json.hex(Data([0x00, 0xAB, 0xFF]))
            json.endObject()
        }
        #expect(text == #"{"a":18446744073709551615,"b":-9223372036854775808,"c":[0.021,1e-05,1.0,1e+16,"NaN",null,true,{}],"d":"00abff"}"#)
    }

    @Test func formatsAndParsesRFC3339() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let micros = Int64.random(in: 0...4_102_444_800_000_000, using: &generator)  // 1970...2100
            let text = Timestamps.string(micros: micros)
            #expect(text.count == 27)
            #expect(Timestamps.parse(text, nowMicros: 0) == micros)
            let date = try #require(formatter.date(from: text))
            #expect(abs(date.timeIntervalSince1970 * 1_000_000 - Double(micros)) < 1000)
        }
        #expect(Timestamps.string(micros: 0) == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamps.parse("2026-11-28", nowMicros: 0) == Timestamps.parse("2026-11-28T00:00:00Z", nowMicros: 0))
        #expect(Timestamps.parse("2026-11-28T07:08:09.5+01:00", nowMicros: 0) == Timestamps.parse("2026-11-28T06:08:09.500000Z", nowMicros: 0))
        #expect(Timestamps.parse("-1h", nowMicros: 7_200_000_000) == 3_600_000_000)
        #expect(Timestamps.parse("+2d", nowMicros: 0) == 172_800_000_000)
        for bad in ["", "yesterday", "2026-13-01", "2026-02-30", "2026-11-28T25:00:00Z", "2026-11-28T06:08:09", "-1x", "-h", "1h"] {
            #expect(Timestamps.parse(bad, nowMicros: 0) == nil, "\(bad)")
        }
    }
}
