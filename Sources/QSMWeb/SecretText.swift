/// Comparison of secrets the browser sends back (CSRF values, a password and its confirmation) in time
/// that depends only on their lengths, so a mismatch's position cannot be learnt by timing.
enum SecretText {
    /// Whether `a` and `b` are the same bytes.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        // Lengths differing in a multiple of 256 still differ.
        return difference == 0 && x.count - y.count == 0
    }

    /// 32 random bytes as unpadded base64url: an opaque session id or CSRF value.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var text = [UInt8]()
        var bits = 0, value = 0
        for byte in bytes {
            value = value << 8 | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                text.append(alphabet[(value >> bits) & 63])
            }
        }
        if bits > 0 { text.append(alphabet[(value << (6 - bits)) & 63]) }
        return String(decoding: text, as: UTF8.self)
    }
}
