import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import QSMClient
import Testing
@testable import QSMWeb

/// Part 4 of issue 17: cookies, CSRF, headers, escaping, ownership, sessions ending with logout.
@Suite("qsm-web security", .serialized)
struct WebSecurityTests {
    @Test func everyPageCarriesTheSecurityHeadersAndTheCookieIsStrictAndOpaque() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let browser = WebBrowser(client)
            for path in ["/login", "/register", "/nowhere", "/static/app.css"] {
                let page = try await browser.get(path)
                let policy = try #require(page.headers[.contentSecurityPolicy], "\(path)")
                #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "\(path)")
                #expect(!policy.contains("unsafe-inline") && !policy.contains("*"), "\(path)")
                #expect(page.headers[.xContentTypeOptions] == "nosniff", "\(path)")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(path)")
            }
            let login = try await browser.get("/login")
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "\(cookie)")
            #expect(!cookie.contains("Secure"), "no TLS, no Secure: \(cookie)")
            // No inline script or style anywhere a page could carry it.
            #expect(!login.body.contains("<style") && !login.body.contains("style=") && !login.body.contains("<script>"))
            try await browser.signUp("olive")
            let dashboard = try await browser.get("/dashboard")
            #expect(dashboard.status == .ok)
            #expect(!dashboard.body.contains("<style") && !dashboard.body.contains("style=\""), "the dashboard has inline style")
            let value = try #require(browser.cookie)
            #expect(value.count == 43 && !value.contains("olive"), "opaque: \(value)")
        }
        // Under TLS the cookie is Secure.
        let secure = try await WebFixture(tls: true)
        try await secure.run { client in
            let cookie = try await WebBrowser(client).get("/login").headers[.setCookie] ?? ""
            #expect(cookie.contains("Secure"), "\(cookie)")
        }
    }

    @Test func aPostWithoutItsSessionsCsrfValueIsRefusedAndChangesNothing() async throws {
        let fixture = try await WebFixture()
        let broker = fixture.broker
        try await fixture.run { client in
            let browser = WebBrowser(client), other = WebBrowser(client)
            try await browser.get("/register")
            try await other.get("/register")
            let form = [("username", "mallory"), ("password", "mallory-password-1"), ("confirm", "mallory-password-1")]
            #expect(try await browser.post("/register", form, csrf: .some(nil)).status == .forbidden)
            #expect(try await browser.post("/register", form, csrf: .some(other.csrf)).status == .forbidden)
            #expect(try await browser.post("/register", form, headers: [.origin: "http://evil.example"]).status == .forbidden)
            #expect(try await browser.post("/register", form, headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"]).status == .forbidden)
            // None of them registered anyone.
            let login = await Refusal.of { () async throws(QSMClientError) in
                try await broker.call(BrokerAPI.Login(username: "mallory", password: "mallory-password-1"))
            }
            #expect(login == .broker(.authenticationFailed), "a refused form registered the user")
            // The same form with its value goes through, also with the "Origin: null" browsers send under
            // Referrer-Policy no-referrer.
            let accepted = try await browser.post(
                "/register", form, headers: [.origin: "null", HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(accepted.status == .seeOther && accepted.location == "/login?registered=1")
            // Signed in, a send without the value sends nothing.
            try await browser.get("/login")
            try await browser.post("/login", [("username", "mallory"), ("password", "mallory-password-1")])
            try await browser.get("/send")
            let refused = try await browser.post("/send", [("to", "mallory"), ("body", "hi"), ("mode", "aes")], csrf: .some("forged"))
            #expect(refused.status == .forbidden)
            #expect(try await browser.get("/inbox").body.messageIDs.isEmpty)
        }
    }

    @Test func userDataIsEscapedAndAnotherUsersMessageIsNotFoundLikeAnUnknownOne() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let alice = WebBrowser(client), bob = WebBrowser(client), carol = WebBrowser(client)
            try await alice.signUp("alice")
            try await bob.signUp("bob")
            try await carol.signUp("carol")
            let xss = "<script>alert(1)</script><img src=x onerror=alert(2)>"
            try await alice.get("/send")
            let sent = try await alice.post("/send", [("to", "bob"), ("body", xss), ("mode", "pqc")])
            #expect(sent.body.contains("sent to bob"), "\(sent.body)")
            let inbox = try await bob.get("/inbox")
            let id = try #require(inbox.body.messageIDs.first)
            #expect(inbox.body.contains("class=\"unread\""))
            let opened = try await bob.post("/messages/\(id)/decrypt", [])
            #expect(opened.status == .ok)
            #expect(opened.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"))
            #expect(!opened.body.contains("<script>alert") && !opened.body.contains("<img src=x"))
            // Carol gets the same 404 for bob's message as for one that does not exist.
            let theirs = try await carol.get("/messages/\(id)")
            let unknown = try await carol.get("/messages/0123456789abcdef")
            #expect(theirs.status == .notFound && unknown.status == .notFound)
            #expect(theirs.body == unknown.body)
            try await carol.get("/inbox")
            #expect(try await carol.post("/messages/\(id)/decrypt", []).status == .notFound)
        }
    }

    @Test func loggingOutEndsTheBrokerSessionAndTheOldCookieGetsLogin() async throws {
        let fixture = try await WebFixture()
        let face = fixture.face
        try await fixture.run { client in
            let browser = WebBrowser(client)
            try await browser.signUp("petra")
            let cookie = try #require(browser.cookie)
            let token = try #require(face.sessions.session(cookie)?.brokerToken)
            _ = try await face.client.call(BrokerAPI.Dashboard(token: token))
            try await browser.get("/dashboard")
            let out = try await browser.post("/logout", [])
            #expect(out.status == .seeOther && out.location == "/login?out=1")
            browser.cookie = cookie
            let again = try await browser.get("/dashboard")
            #expect(again.status == .seeOther && again.location == "/login")
            let after = await Refusal.of { () async throws(QSMClientError) in
                try await face.client.call(BrokerAPI.Dashboard(token: token))
            }
            guard case .broker(.invalidSession) = after else {
                Issue.record("the broker session outlived the logout: \(after)")
                return
            }
        }
    }
}
