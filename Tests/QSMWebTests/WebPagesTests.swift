import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import QSMClient
import Testing
@testable import QSMWeb

/// The screens of issue 17 against a real qsmd: key exchange, each mode, inbox, history, dashboard,
/// errors on the page they came from, and bad input.
@Suite("qsm-web pages", .serialized)
struct WebPagesTests {
    @Test func keysSendInboxDecryptAndHistoryWorkInEveryMode() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let alice = WebBrowser(client), bob = WebBrowser(client)
            try await alice.signUp("alice")
            try await bob.signUp("bob")
            #expect(try await alice.get("/").location == "/dashboard")
            try await alice.get("/keys")
            let exchange = try await alice.post("/keys", [("peer", "bob"), ("qubits", "40000"), ("noise", "0.01"), ("eavesdropper", "")])
            #expect(exchange.status == .ok, "\(exchange.body)")
            for figure in ["Qubits sent", "Sifted", "QBER upper bound", "threshold 11%", "Bits leaked by Cascade", "Final key length"] {
                #expect(exchange.body.contains(figure), "\(figure)")
            }
            let tapped = try await alice.post("/keys", [("peer", "bob"), ("qubits", "40000"), ("noise", ""), ("eavesdropper", "1")])
            #expect(tapped.status == .unprocessableContent)
            #expect(tapped.body.contains("possible eavesdropper"))
            let notANumber = try await alice.post("/keys", [("peer", "bob"), ("qubits", "lots"), ("noise", ""), ("eavesdropper", "")])
            #expect(notANumber.body.contains("whole number"))
            for mode in ["otp", "aes", "pqc"] {
                let sent = try await alice.post("/send", [("to", "bob"), ("body", "hello in \(mode)"), ("mode", mode)])
                #expect(sent.body.contains("Encrypted with \(mode) and sent to bob"), "\(mode): \(sent.body)")
            }
            let unknown = try await alice.post("/send", [("to", "nobody-here"), ("body", "hi"), ("mode", "aes")])
            #expect(unknown.body.contains("There is no user named nobody-here"), "\(unknown.body)")
            let inbox = try await bob.get("/inbox")
            #expect(inbox.body.messageIDs.count == 3 && inbox.body.contains("3 unread"))
            for id in inbox.body.messageIDs {
                let detail = try await bob.get("/messages/\(id)")
                #expect(detail.body.contains("alice") && detail.body.contains("bytes"))
                let opened = try await bob.post("/messages/\(id)/decrypt", [])
                #expect(opened.body.contains("hello in "), "\(opened.body)")
            }
            #expect(!(try await bob.get("/inbox")).body.contains("class=\"unread\""))
            let history = try await bob.get("/history")
            #expect(history.status == .ok && history.body.contains("<td>"))
            let dashboard = try await alice.get("/dashboard")
            #expect(dashboard.body.contains("data-counter=\"encryptions\"") && dashboard.body.contains("/static/live.js"))
            #expect(dashboard.body.contains("href=\"/send\"") && dashboard.body.contains("href=\"/keys\""))
        }
    }

    @Test func wrongPasswordsAreSaidOnTheLoginPageAndTheBruteForceShowsOnTheOwnersDashboard() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let owner = WebBrowser(client), attacker = WebBrowser(client)
            try await owner.signUp("quinn")
            try await attacker.get("/login")
            var last = try await attacker.post("/login", [("username", "quinn"), ("password", "wrong")])
            #expect(last.status == .unauthorized && last.body.contains("Wrong username or password"))
            for _ in 0..<5 { last = try await attacker.post("/login", [("username", "quinn"), ("password", "wrong")]) }
            #expect(last.body.contains("locked") && last.body.contains("try again in"), "\(last.body)")
            let dashboard = try await owner.get("/dashboard")
            #expect(dashboard.body.contains("brute_force"), "the owner's dashboard shows the alert")
        }
    }

    @Test func badInputGetsAClearStatusAndNoStackTrace() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let browser = WebBrowser(client)
            try await browser.signUp("rita")
            try await browser.get("/send")
            let huge = String(repeating: "a", count: 70 * 1024)
            let large = try await browser.post("/send", [("to", "rita"), ("body", huge), ("mode", "aes")])
            #expect(large.status == .contentTooLarge && large.body.contains("64 KiB"))
            let extra = try await browser.post("/send", [("to", "rita"), ("body", "x"), ("mode", "aes"), ("admin", "1")])
            #expect(extra.status == .badRequest && extra.body.contains("does not take"))
            var raw = ByteBuffer(string: "to=rita&mode=aes&csrf=\(browser.csrf ?? "")&body=")
            raw.writeBytes([0xFF, 0xFE])
            #expect(try await browser.postRaw("/send", raw).status == .badRequest)
            #expect(try await browser.postRaw("/send", ByteBuffer(string: "to=rita&body=%FF%FE&mode=aes&csrf=\(browser.csrf ?? "")")).status == .badRequest)
            #expect(try await browser.get("/messages/../../etc/passwd").status == .notFound)
            #expect(try await browser.get("/messages/%2e%2e%2fetc%2fpasswd").status == .notFound)
            let forged = WebBrowser(client)
            forged.cookie = "forged-value"
            #expect(try await forged.get("/dashboard").location == "/login")
            #expect(try await forged.post("/send", [("to", "rita"), ("body", "x"), ("mode", "aes")], csrf: .some("x")).status == .forbidden)
            for page in [large, extra] { #expect(!page.body.contains("Error(") && !page.body.contains(".swift")) }
            // Still serving.
            #expect(try await browser.get("/inbox").status == .ok)
        }
    }

    @Test func aQsmdThatIsDownGetsA503PageAndARestartedOneIsUsedAgain() async throws {
        let daemon = try await GatewayDaemon()
        let face = try WebFace(configuration: WebConfiguration(socketPath: daemon.gateway))
        let app = Application(router: face.router())
        try await app.test(.router) { client in
            let browser = WebBrowser(client)
            try await browser.signUp("sam")
            #expect(try await browser.get("/inbox").status == .ok)
            try await daemon.stop()
            let down = try await browser.get("/inbox")
            #expect(down.status == .serviceUnavailable && down.body.contains("cannot reach the qsm broker"))
            #expect(try await browser.get("/login").status == .seeOther, "pages without the broker still answer")
            let again = try await GatewayDaemon(directory: daemon.directory)
            #expect(try await browser.get("/inbox").status == .ok, "the session survives qsmd's restart")
            try await again.stop()
        }
        await face.shutdown()
    }

    @Test func noPathOfQsmWebReachesAdmin() async throws {
        let fixture = try await WebFixture()
        try await fixture.run { client in
            let browser = WebBrowser(client)
            try await browser.signUp("tess")
            for path in ["/admin", "/io.qsm.Admin.Stats", "/static/../admin", "/alerts", "/events"] {
                #expect(try await browser.get(path).status == .notFound, "\(path)")
            }
            // The web face's own client is refused Admin by the gateway, though it runs as qsmd's uid.
            let refusal = await Refusal.of { () async throws(QSMClientError) in
                try await fixture.face.client.call(AdminAPI.Stats())
            }
            #expect(refusal == .reply("org.varlink.service.InterfaceNotFound"), "\(refusal)")
        }
    }
}
