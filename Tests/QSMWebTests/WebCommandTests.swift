import Foundation
import Glibc
import QSMTesting
import Testing

/// The qsm-web binary's options: what it refuses (one line, exit 64), the root warning, and HTTPS with
/// --tls-cert and --tls-key (the session cookie is then Secure).
@Suite("qsm-web command", .serialized)
struct WebCommandTests {
    @Test func refusesAnOpenAddressWithoutTLSAndBadOptionsInOneLine() async throws {
        let cases: [([String], String)] = [
            (["--socket", "/tmp/x.sock", "--listen", "0.0.0.0:8080"], "is not a loopback address: give --tls-cert and --tls-key, or --insecure-http"),
            (["--socket", "/tmp/x.sock", "--listen", "localhost"], "--listen must be HOST:PORT"),
            (["--socket", "/tmp/x.sock", "--listen", "127.0.0.1:70000"], "--listen must be HOST:PORT"),
            (["--socket", "/tmp/x.sock", "--tls-cert", "/tmp/cert.pem"], "--tls-cert and --tls-key go together"),
            (["--listen", "127.0.0.1:8080"], "--socket"),
        ]
        for (arguments, words) in cases {
            let (status, _, stderr) = try await ChildProcess.run(Products.qsmWeb, arguments)
            #expect(status == 64, "\(arguments): \(stderr)")
            #expect(stderr.contains(words), "\(arguments): \(stderr)")
        }
        let (status, lines, _) = try await ChildProcess.run(Products.qsmWeb, ["--help"])
        #expect(status == 0)
        for option in ["--socket", "--listen", "--tls-cert", "--tls-key", "--insecure-http", "--log-level"] {
            #expect(lines.contains { $0.contains(option) }, "--help explains \(option)")
        }
    }

    @Test func servesHTTPSWithSecureCookiesAndWarnsWhenRunAsRoot() async throws {
        let daemon = try await GatewayDaemon()
        defer { Task { try await daemon.stop() } }
        let cert = daemon.directory.appending("cert.pem"), key = daemon.directory.appending("key.pem")
        let (made, _, error) = try await ChildProcess.run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
             "-days", "1", "-keyout", key, "-out", cert])
        try #require(made == 0, "openssl: \(error)")
        let web = try ChildProcess(
            Products.qsmWeb, ["--socket", daemon.gateway, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
        defer { web.kill(SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(30)
        var url: String?
        while url == nil, ContinuousClock.now < deadline {
            url = web.standardError.range(of: #"https://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression).map { String(web.standardError[$0]) }
            try await Task.sleep(for: .milliseconds(50))
        }
        let base = try #require(url, "qsm-web did not start: \(web.standardError)")
        #expect(web.standardError.contains("Running as root") == (geteuid() == 0), "\(web.standardError)")
        let (status, lines, curlError) = try await ChildProcess.run(
            "/usr/bin/curl", ["-s", "-k", "-D", "-", "-o", "/dev/null", base + "login"])
        #expect(status == 0, "\(curlError)")
        let headers = lines.joined(separator: "\n").components(separatedBy: CharacterSet.newlines)
        let cookie = headers.first { $0.lowercased().hasPrefix("set-cookie:") } ?? ""
        #expect(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(lines)")
    }
}
