/// A --listen value: HOST:PORT, with an IPv6 host in brackets.
struct ListenAddress {
    let host: String
    let port: Int

    init?(_ text: String) {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        // Port 0 lets the kernel pick one (tests); the ready line says which.
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
    }

    /// Whether only this machine can reach the address.
    var isLoopback: Bool { host == "localhost" || host.hasPrefix("127.") || host == "::1" }

    /// The host as a URL writes it.
    var urlHost: String { host.contains(":") ? "[\(host)]" : host }
}
