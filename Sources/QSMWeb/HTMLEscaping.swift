import Mustache

/// HTML escaping for every `{{value}}` of the pages: the same five characters as swift-mustache's own
/// HTML content type (`< > & " '`), found by scanning UTF-8 bytes. swift-mustache's escaper looks each
/// Character up in a dictionary, which was a tenth of `GET /inbox`'s time in qsm-web (tools/bench web);
/// most values (times, sizes, names) hold none of the five, and come back as they are.
struct HTMLEscaping: MustacheContentType {
    /// The name templates select it by, in `{{% CONTENT_TYPE: ... }}`.
    static let name = "QSM_HTML"

    /// Makes the content type known to swift-mustache's parser; idempotent.
    static func register() {
        MustacheContentTypes.register(HTMLEscaping(), named: name)
    }

    func escapeText(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            // Every byte of a multi-byte UTF-8 sequence is >= 0x80, so a match below is always a whole
            // character.
            guard let first = bytes.firstIndex(where: Self.needsEscaping) else { return nil }
            var escaped: [UInt8] = []
            escaped.reserveCapacity(bytes.count + 16)
            escaped.append(contentsOf: bytes[..<first])
            for byte in bytes[first...] {
                switch byte {
                case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
                case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
                case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
                case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
                case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
                default: escaped.append(byte)
                }
            }
            return String(decoding: escaped, as: UTF8.self)
        } ?? text
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), UInt8(ascii: "\""), UInt8(ascii: "'"): true
        default: false
        }
    }
}
