import Foundation
import QSMTesting
import Testing

/// Independent checkers for the dashboard page, its rendering and the metrics endpoint, in Python
/// (Debian's interpreter, or the virtual environment of tools/test for PyPI's prometheus-client).
enum DashboardChecks {
    /// Debian's interpreter (tools/test exports QSM_PYTHON).
    static var python: String { ProcessInfo.processInfo.environment["QSM_PYTHON"] ?? "/usr/bin/python3" }

    /// The virtual environment's interpreter, with PyPI's prometheus-client (tools/test creates it).
    static var venvPython: String {
        if let path = ProcessInfo.processInfo.environment["QSM_VARLINK_PYTHON"], !path.isEmpty { return path }
        return Products.packageRoot + "/.build-venv/bin/python3"
    }

    /// Runs `script` with `arguments` under `interpreter` and decodes the JSON object it prints.
    static func json(_ interpreter: String, _ script: String, _ arguments: [String]) async throws -> [String: Any] {
        let (status, lines, stderr) = try await ChildProcess.run(interpreter, ["-c", script] + arguments)
        guard status == 0 else { throw DaemonError("\(interpreter) failed (\(status)): \(stderr)") }
        let data = Data(lines.joined(separator: "\n").utf8)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DaemonError("not a JSON object: \(lines)")
        }
        return object
    }

    /// Parses the page with html.parser (every non-void element closed in order), each inline `<svg>` with
    /// xml.etree, and reports the counters (`data-counter` elements), SVG element counts and any reference
    /// to something outside the file.
    static let pageScript = #"""
        import sys, json, re, html.parser, xml.etree.ElementTree as ET
        text = open(sys.argv[1], encoding="utf-8").read()
        VOID = {"meta", "link", "br", "img", "input", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}
        class Page(html.parser.HTMLParser):
            def __init__(self):
                super().__init__(convert_charrefs=True)
                self.stack, self.errors, self.counters, self.current, self.doctype = [], [], {}, None, False
            def handle_decl(self, decl):
                self.doctype = decl.lower() == "doctype html"
            def handle_starttag(self, tag, attrs):
                if tag not in VOID: self.stack.append(tag)
                attrs = dict(attrs)
                if "data-counter" in attrs: self.current = attrs["data-counter"]
            def handle_startendtag(self, tag, attrs):
                pass
            def handle_endtag(self, tag):
                if tag in VOID: return
                if not self.stack or self.stack[-1] != tag:
                    self.errors.append("</%s> closes %s" % (tag, self.stack[-1:] or "nothing"))
                else:
                    self.stack.pop()
            def handle_data(self, data):
                if self.current is not None:
                    self.counters[self.current] = int(data.replace(",", ""))
                    self.current = None
        page = Page()
        page.feed(text)
        page.close()
        svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
        svg_report = []
        for svg in svgs:
            root = ET.fromstring(svg)
            ns = "{http://www.w3.org/2000/svg}"
            svg_report.append({
                "root": root.tag, "elements": sum(1 for _ in root.iter()),
                "rects": sum(1 for _ in root.iter(ns + "rect")),
                "texts": [t.text or "" for t in root.iter(ns + "text")],
            })
        external = [u for u in re.findall(r"https?://[^\"'\s<>)]+", text) if u != "http://www.w3.org/2000/svg"]
        external += re.findall(r"(?:\bsrc=|@import|url\()", text)
        print(json.dumps({
            "doctype": page.doctype, "errors": page.errors, "unclosed": page.stack, "counters": page.counters,
            "svgs": svg_report, "external": external, "scripts": len(re.findall(r"<script\b", text, re.I)),
            "bytes": len(text.encode("utf-8")),
        }))
        """#

    /// Decodes a PNG with zlib alone (8-bit RGB or RGBA, not interlaced) and counts pixels that differ from
    /// the page background, and those of the Okabe–Ito blue and vermillion the charts use.
    static let pngScript = #"""
        import sys, json, struct, zlib
        data = open(sys.argv[1], "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        pos, idat = 8, b""
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos:pos + 4])
            kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
            pos += 12 + length
            if kind == b"IHDR":
                width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT":
                idat += body
        assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        bpp = 3 if colour == 2 else 4
        raw = zlib.decompress(idat)
        stride = width * bpp
        prev = bytearray(stride)
        background = ink = blue = vermillion = 0
        i = 0
        for y in range(height):
            kind = raw[i]; i += 1
            line = bytearray(raw[i:i + stride]); i += stride
            if kind == 1:
                for x in range(bpp, stride): line[x] = (line[x] + line[x - bpp]) & 255
            elif kind == 2:
                line = bytearray((a + b) & 255 for a, b in zip(line, prev))
            elif kind == 3:
                for x in range(stride):
                    left = line[x - bpp] if x >= bpp else 0
                    line[x] = (line[x] + ((left + prev[x]) >> 1)) & 255
            elif kind == 4:
                for x in range(stride):
                    a = line[x - bpp] if x >= bpp else 0
                    b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            prev = line
            for x in range(0, stride, bpp):
                r, g, b = line[x], line[x + 1], line[x + 2]
                if abs(r - 250) <= 4 and abs(g - 250) <= 4 and abs(b - 250) <= 4: background += 1
                else: ink += 1
                if abs(r - 0) <= 30 and abs(g - 114) <= 30 and abs(b - 178) <= 30: blue += 1
                if abs(r - 213) <= 30 and abs(g - 94) <= 30 and abs(b - 0) <= 30: vermillion += 1
        print(json.dumps({"width": width, "height": height, "background": background, "ink": ink,
                          "blue": blue, "vermillion": vermillion}))
        """#

    /// Scrapes `url` and parses it with prometheus_client's text parser: every sample as name, labels, value.
    static let metricsScript = #"""
        import sys, json, urllib.request
        from prometheus_client.parser import text_string_to_metric_families
        with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
            status, kind = response.status, response.headers.get("Content-Type", "")
            text = response.read().decode("utf-8")
        samples, types = [], {}
        for family in text_string_to_metric_families(text):
            types[family.name] = family.type
            for sample in family.samples:
                samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
        print(json.dumps({"status": status, "contentType": kind, "types": types, "samples": samples}))
        """#

    /// A TCP port nothing listens on now (bound to port 0 on loopback, then released).
    static func freePort() throws -> Int { try LoopbackPort.free() }

    /// Holds a listening TCP socket on 127.0.0.1:`port` until closed.
    static func occupy(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok, listen(fd, 4) == 0 else {
            close(fd)
            throw DaemonError("cannot occupy port \(port): \(errno)")
        }
        return fd
    }
}

/// A small workload through qsm: two users, a clean and an eavesdropped exchange, a message in each mode,
/// one decryption of each, a third user's refused decryption and a brute-force lockout.
func dashboardWorkload(_ daemon: Daemon) async throws -> (alice: String, bob: String) {
    let alice = daemon.directory.appending("alice"), bob = daemon.directory.appending("bob")
    func qsm(_ arguments: [String], input: String? = nil, home: String, succeeds: Bool = true) async throws -> String {
        let (status, out, err) = try await daemon.qsm(arguments, input: input, home: home)
        if succeeds { #expect(status == 0, "qsm \(arguments.joined(separator: " ")): \(err)") }
        return out
    }
    _ = try await qsm(["register", "alice", "--password-stdin"], input: "alice-password", home: alice)
    _ = try await qsm(["register", "bob", "--password-stdin"], input: "bob-password", home: bob)
    _ = try await qsm(["login", "alice", "--password-stdin"], input: "alice-password", home: alice)
    _ = try await qsm(["login", "bob", "--password-stdin"], input: "bob-password", home: bob)
    _ = try await qsm(["key", "establish", "bob", "--qubits", "50000"], home: alice)
    _ = try await qsm(["key", "establish", "bob", "--qubits", "50000", "--eavesdrop", "1"], home: alice, succeeds: false)
    for mode in ["otp", "aes", "pqc", "aes"] {
        _ = try await qsm(["send", "bob", "hello in \(mode)", "--mode", mode], home: alice)
    }
    let inbox = try await qsm(["inbox"], home: bob)
    let ids = inbox.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
    #expect(ids.count == 4, "\(inbox)")
    for id in ids.prefix(3) { _ = try await qsm(["read", id], home: bob) }
    // The refused decryption is carol's: alice, the sender, may read what she sent.
    let carol = daemon.directory.appending("carol")
    _ = try await qsm(["register", "carol", "--password-stdin"], input: "carol-password", home: carol)
    _ = try await qsm(["login", "carol", "--password-stdin"], input: "carol-password", home: carol)
    if let first = ids.first { _ = try await qsm(["read", first], home: carol, succeeds: false) }
    for _ in 0..<6 { _ = try await qsm(["login", "alice", "--password-stdin"], input: "guess-guess", home: bob, succeeds: false) }
    return (alice, bob)
}

/// `qsm dashboard --json [--window]` as a session of `home`.
func dashboardReply(_ daemon: Daemon, home: String, window: String = "1h") async throws -> [String: Any] {
    let (status, out, err) = try await daemon.qsm(["dashboard", "--json", "--window", window], home: home)
    #expect(status == 0, "\(err)")
    return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
}
