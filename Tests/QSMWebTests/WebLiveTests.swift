import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import QSMClient
import QSMTesting
import Testing
@testable import QSMWeb

/// What needs a real HTTP connection or a stream: the client's address reaching the intrusion detection,
/// and the dashboard's Server-Sent Events.
@Suite("qsm-web live", .serialized)
struct WebLiveTests {
    @Test func loginsThroughTheWebReachTheIntrusionDetectionWithTheClientsAddress() async throws {
        let fixture = try await WebFixture()
        let daemon = fixture.daemon
        try await fixture.run(.live) { client in
            let browser = WebBrowser(client)
            try await browser.get("/register")
            try await browser.post("/register", [("username", "uma"), ("password", "uma-password-1"), ("confirm", "uma-password-1")])
            try await browser.get("/login")
            for _ in 0..<2 { try await browser.post("/login", [("username", "uma"), ("password", "wrong")]) }
            let events = try await daemon.events()
            let sources = events.filter { $0.type == "login_failed" }.compactMap { $0.data["source"]?.stringValue }
            #expect(sources == ["addr:127.0.0.1", "addr:127.0.0.1"], "\(sources)")
            // And the registration's event records no ignored origin: the gateway trusted it.
            let registered = try #require(events.first { $0.type == "user_registered" })
            #expect(registered.data["ignoredOrigin"] == nil)
        }
    }

    @Test func theDashboardStreamsItsSectionsAndEndsWhenQsmdGoes() async throws {
        let fixture = try await WebFixture()
        let daemon = fixture.daemon
        let app = Application(router: fixture.face.router())
        try await app.test(.router) { client in
            let browser = WebBrowser(client)
            try await browser.signUp("vera")
            let cookie = try #require(browser.cookie)
            // The stream runs until qsmd stops; then it ends and the browser's EventSource would reconnect.
            async let stopped: Void = {
                try await Task.sleep(for: .seconds(1))
                // Killed, as a crash would: a graceful stop would let the stream run its grace period.
                daemon.process.kill(SIGKILL)
                _ = try await daemon.process.wait()
            }()
            let response = try await client.execute(uri: "/dashboard/events", method: .get, headers: [.cookie: "qsm_session=\(cookie)"])
            try await stopped
            #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            let text = String(buffer: response.body)
            #expect(text.hasPrefix("event: dashboard\ndata: "), "\(text.prefix(200))")
            #expect(text.contains("data-counter=\"registrations\""))
            // Without a session there is no stream.
            let anonymous = try await client.execute(uri: "/dashboard/events", method: .get)
            #expect(anonymous.status == .forbidden)
        }
        await fixture.face.shutdown()
    }
}
