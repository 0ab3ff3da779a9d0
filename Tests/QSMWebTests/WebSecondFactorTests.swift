import Foundation
import HTTPTypes
import QSMCrypto
import Testing

/// The second factor in the web face (issue 19's web step): enrolment with a QR code drawn inline as
/// SVG, the recovery codes shown once, and a login that asks for the code once the password is right.
@Suite("Web face: second factor")
struct WebSecondFactorTests {
    /// The TOTP code of the otpauth URI's secret for the 30 s step `offset` steps from now.
    static func code(uri: String, offset: Int64 = 0) throws -> String {
        let query = try #require(URLComponents(string: uri)?.queryItems)
        let secret = try #require(query.first { $0.name == "secret" }?.value.flatMap(Base32.decode))
        let step = Int64(Date().timeIntervalSince1970) / 30 + offset
        return TOTP(secret: SecretBytes(copying: secret)).code(step: step)
    }

    @Test func enrolShowsAQRCodeAndTheRecoveryCodesOnceAndLoginThenAsksForTheCode() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let browser = WebBrowser(client)
            try await browser.signUp("sana")
            #expect(try await browser.get("/mfa").body.contains("Set up an authenticator app"))
            let started = try await browser.post("/mfa/start", [])
            #expect(started.status == .ok, "\(started.body)")
            #expect(started.body.contains("<svg") && started.body.contains("<path"), "the QR code is inline SVG")
            let uriStart = try #require(started.body.range(of: "otpauth://totp/"))
            let uri = String(started.body[uriStart.lowerBound...].prefix { $0 != "<" })
                .replacingOccurrences(of: "&amp;", with: "&")
            #expect(uri.contains("issuer=qsm"))

            let wrong = try await browser.post("/mfa/confirm", [("code", "000000")])
            #expect(wrong.status == .unprocessableContent && wrong.body.contains("Wrong"), "\(wrong.body)")
            let confirmed = try await browser.post("/mfa/confirm", [("code", try Self.code(uri: uri))])
            #expect(confirmed.status == .ok, "\(confirmed.body)")
            let recovery = confirmed.body.components(separatedBy: "<li><code>").dropFirst().map { $0.prefix { $0 != "<" } }
            #expect(recovery.count == 10, "ten recovery codes: \(confirmed.body)")
            #expect(!(try await browser.get("/mfa").body.contains(String(recovery[0]))), "shown only once")

            // Log out, then in: the password alone is not enough, and the form asks for the code.
            try await browser.post("/logout", [])
            try await browser.get("/login")
            let asked = try await browser.post("/login", [("username", "sana"), ("password", "sana-password-1")])
            #expect(asked.status == .unprocessableContent && asked.body.contains("second factor"), "\(asked.body)")
            #expect(asked.body.contains(#"name="code""#), "the second step has a code field")
            let badCode = try await browser.post(
                "/login", [("username", "sana"), ("password", "sana-password-1"), ("code", "123456")])
            #expect(badCode.status == .unauthorized && badCode.body.contains(#"name="code""#))
            // The next step's code: the confirming one was spent, and a step either side is accepted.
            let inside = try await browser.post(
                "/login", [("username", "sana"), ("password", "sana-password-1"), ("code", try Self.code(uri: uri, offset: 1))])
            #expect(inside.location == "/dashboard", "\(inside.status) \(inside.body)")
        }
    }

    @Test func aRecoveryCodeLogsInOnceAndTheFactorTurnsOffWithPasswordAndCode() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let browser = WebBrowser(client)
            try await browser.signUp("tove")
            try await browser.get("/mfa")
            let started = try await browser.post("/mfa/start", [])
            let uriStart = try #require(started.body.range(of: "otpauth://totp/"))
            let uri = String(started.body[uriStart.lowerBound...].prefix { $0 != "<" }).replacingOccurrences(of: "&amp;", with: "&")
            let confirmed = try await browser.post("/mfa/confirm", [("code", try Self.code(uri: uri, offset: -1))])
            let recovery = String(try #require(
                confirmed.body.components(separatedBy: "<li><code>").dropFirst().first?.prefix { $0 != "<" }))
            try await browser.post("/logout", [])
            try await browser.get("/login")
            let fields = [("username", "tove"), ("password", "tove-password-1"), ("code", recovery)]
            #expect(try await browser.post("/login", fields).location == "/dashboard")
            try await browser.get("/dashboard")
            try await browser.post("/logout", [])
            try await browser.get("/login")
            #expect(try await browser.post("/login", fields).status == .unauthorized, "a recovery code works once")
            #expect(try await browser.post("/login", [
                ("username", "tove"), ("password", "tove-password-1"), ("code", try Self.code(uri: uri)),
            ]).location == "/dashboard")
            try await browser.get("/mfa")
            let off = try await browser.post("/mfa/disable", [("password", "tove-password-1"), ("code", try Self.code(uri: uri, offset: 1))])
            #expect(off.status == .ok && off.body.contains("The second factor is off"), "\(off.body)")
        }
    }
}
