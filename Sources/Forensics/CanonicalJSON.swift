public import Foundation

/// A canonical JSON writer into a byte buffer: no insignificant whitespace, strings escaped per RFC 8259
/// in their shortest form, hand-rolled because Foundation's encoders manage about 90,000 small objects a
/// second here and export needs more than 150,000.
///
/// The output equals Python's `json.dumps(value, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)` for the same value, provided callers write object keys in sorted order (the
/// event encoder does; the tests check it against Python). Commas are placed by the writer: every value
/// and every key goes through `separate()`.
public struct CanonicalJSON: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]
    /// True after a value, so the next key or array element needs a comma first.
    private var needsComma = false

    /// - Parameter capacity: bytes to reserve up front.
    public init(capacity: Int = 1 << 16) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Forgets the bytes written, keeping the capacity.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    @inline(__always) private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    // MARK: Structure

    /// Opens an object (as a value).
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Closes the current object.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Opens an array (as a value).
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Closes the current array.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key; `name` must need no escaping (our keys are ASCII identifiers).
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an object key given at run time, escaped like any string.
    public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Ends a line of NDJSON: the next object starts afresh.
    public mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    // MARK: Values

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        if value { bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) } else { bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65]) }
        needsComma = true
    }

    /// Writes an unsigned integer in decimal, exactly (also above 2^53).
    public mutating func number(_ value: UInt64) {
        separate()
        appendDecimal(value)
        needsComma = true
    }

    /// Writes a signed integer in decimal, exactly.
    public mutating func number(_ value: Int64) {
        separate()
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(value.magnitude)
        } else {
            appendDecimal(UInt64(value))
        }
        needsComma = true
    }

    /// Writes a 32-bit unsigned integer.
    public mutating func number(_ value: UInt32) { number(UInt64(value)) }

    /// Writes a 32-bit signed integer.
    public mutating func number(_ value: Int32) { number(Int64(value)) }

    /// Writes a double as its shortest round-trip decimal (as Python's repr: `0.021`, `1e-05`, `1.0`);
    /// NaN and the infinities, which JSON cannot express as numbers, as the strings `"NaN"`,
    /// `"Infinity"` and `"-Infinity"` (as the protobuf JSON mapping does).
    public mutating func number(_ value: Double) {
        if value.isNaN { return string("NaN") }
        if value.isInfinite { return string(value < 0 ? "-Infinity" : "Infinity") }
        separate()
        // Swift's description is the shortest representation that round-trips, in the same notation
        // as Python's repr for every finite double (exponent from 1e16 and below 1e-4).
        bytes.append(contentsOf: value.description.utf8)
        needsComma = true
    }

    private mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 20 digits at most, 32 bytes
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while rest > 0 {
                raw[31 - count] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
                count += 1
            }
            bytes.append(contentsOf: raw[(32 - count)...])
        }
    }

    /// Writes bytes as a string of lowercase hexadecimal digits.
    public mutating func hex(_ data: Data) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { table in
            data.withUnsafeBytes { raw in
                for byte in raw {
                    bytes.append(table[Int(byte >> 4)])
                    bytes.append(table[Int(byte & 0x0F)])
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes a string known at compile time that needs no escaping (enum names).
    public mutating func string(_ value: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes a log time (microseconds since the epoch) as an RFC 3339 UTC string with microseconds.
    public mutating func timestamp(micros: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        Timestamps.append(micros: micros, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes a string, escaped.
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8: $0) }
    }

    /// Writes UTF-8 bytes as a JSON string. `"` and `\` are escaped, control characters as `\b \f \n \r
    /// \t` or `\u00XX`; everything else is copied as is. Bytes that are not valid UTF-8 become U+FFFD
    /// (one per maximal invalid subsequence, as the Unicode standard recommends), so the output is
    /// always valid UTF-8 and valid JSON.
    public mutating func string(utf8 input: UnsafeBufferPointer<UInt8>) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        let count = input.count
        while index < count {
            let byte = input[index]
            if byte >= 0x20 && byte != 0x22 && byte != 0x5C && byte < 0x80 {
                index += 1
                continue
            }
            if byte >= 0x80 {
                let length = Self.validSequenceLength(input, at: index)
                if length > 0 {
                    index += length
                    continue
                }
            }
            // Flush the plain run, then the escape or replacement.
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index])) }
            if byte >= 0x80 {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                index += Self.invalidSequenceLength(input, at: index)
            } else {
                appendEscape(byte)
                index += 1
            }
            runStart = index
        }
        if runStart < count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<count])) }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Writes raw bytes that may or may not be UTF-8 as a JSON string (see `string(utf8:)`).
    public mutating func string(utf8 data: Data) {
        data.withUnsafeBytes { raw in string(utf8: raw.bindMemory(to: UInt8.self)) }
    }

    private mutating func appendEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { table in
                bytes.append(contentsOf: [
                    UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), table[Int(byte >> 4)], table[Int(byte & 0x0F)],
                ])
            }
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` (a byte >= 0x80), or 0.
    @inline(__always)
    static func validSequenceLength(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = input[index]
        let remaining = input.count - index
        func continuation(_ offset: Int) -> Bool { input[index + offset] & 0xC0 == 0x80 }
        switch lead {
        case 0xC2...0xDF:
            return remaining >= 2 && continuation(1) ? 2 : 0
        case 0xE0...0xEF:
            guard remaining >= 3 else { return 0 }
            let second = input[index + 1]
            // No overlong forms (E0 below A0) and no surrogates (ED above 9F).
            let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
            return second >= low && second <= high && continuation(2) ? 3 : 0
        case 0xF0...0xF4:
            guard remaining >= 4 else { return 0 }
            let second = input[index + 1]
            let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
            return second >= low && second <= high && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }

    /// How many bytes one U+FFFD replaces at `index`: the maximal prefix of a well-formed sequence
    /// (at least one byte), as `String(decoding:as: UTF8.self)` and Python's "replace" handler do.
    static func invalidSequenceLength(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = input[index]
        let needed: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0...0xEF:
            needed = 3
            if lead == 0xE0 { low = 0xA0 }
            if lead == 0xED { high = 0x9F }
        case 0xF0...0xF4:
            needed = 4
            if lead == 0xF0 { low = 0x90 }
            if lead == 0xF4 { high = 0x8F }
        default: return 1
        }
        var length = 1
        while length < needed, index + length < input.count {
            let byte = input[index + length]
            let ok = length == 1 ? (byte >= low && byte <= high) : (byte & 0xC0 == 0x80)
            guard ok else { break }
            length += 1
        }
        return length
    }
}
