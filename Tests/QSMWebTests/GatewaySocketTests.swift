import Foundation
import QSMClient
import Testing

/// qsmd --gateway-socket: io.qsm.Broker only, no administrator whatever the uid, and the only place where
/// the `origin` of Login and Register counts; plus MyAlerts, a user's view of alerts about their account.
@Suite("qsmd gateway socket", .serialized)
struct GatewaySocketTests {
    @Test func theGatewayNeverServesAdminEvenToQsmdsOwnUid() async throws {
        let daemon = try await GatewayDaemon()
        defer { Task { try await daemon.stop() } }
        // The test runs as qsmd's uid: an administrator on the ordinary socket...
        let ordinary = QSMClient(socketPath: daemon.socket)
        let stats = try await ordinary.call(AdminAPI.Stats())
        #expect(stats.users == 0, "the Admin call succeeded on the ordinary socket")
        // ...and nobody on the gateway, for every Admin method.
        let gateway = QSMClient(socketPath: daemon.gateway)
        let refusals = [
            await Refusal.of { () async throws(QSMClientError) in try await gateway.call(AdminAPI.Stats()) },
            await Refusal.of { () async throws(QSMClientError) in try await gateway.call(AdminAPI.Alerts()) },
            await Refusal.of { () async throws(QSMClientError) in try await gateway.call(AdminAPI.VerifyChain()) },
        ]
        for refusal in refusals {
            #expect(refusal == .reply("org.varlink.service.InterfaceNotFound"), "\(refusal)")
        }
        // The Broker interface itself works there.
        _ = try await gateway.call(BrokerAPI.Register(username: "alice", password: "alice-password-1"))
        await ordinary.shutdown()
        await gateway.shutdown()
    }

    @Test func originIsTrustedOnTheGatewayAndRecordedAsIgnoredElsewhere() async throws {
        let daemon = try await GatewayDaemon()
        defer { Task { try await daemon.stop() } }
        let gateway = QSMClient(socketPath: daemon.gateway)
        let ordinary = QSMClient(socketPath: daemon.socket)
        _ = try await gateway.call(BrokerAPI.Register(username: "carol", password: "carol-password-1", origin: "203.0.113.7"))
        for _ in 0..<5 {
            await #expect(throws: QSMClientError.self) {
                try await gateway.call(BrokerAPI.Login(username: "carol", password: "wrong-password", origin: "203.0.113.7"))
            }
        }
        // The brute-force lock holds for that address only: the owner logs in from another one.
        let locked = await Refusal.of { () async throws(QSMClientError) in
            try await gateway.call(BrokerAPI.Login(username: "carol", password: "carol-password-1", origin: "203.0.113.7"))
        }
        guard case .broker(.accountLocked) = locked else {
            Issue.record("the locked address got \(locked)")
            return
        }
        let session = try await gateway.call(BrokerAPI.Login(username: "carol", password: "carol-password-1", origin: "198.51.100.20"))
        #expect(session.session.username == "carol")
        // On the ordinary socket an origin changes nothing and the event says it was ignored.
        await #expect(throws: QSMClientError.self) {
            try await ordinary.call(BrokerAPI.Login(username: "carol", password: "wrong-password", origin: "192.0.2.99"))
        }
        let failed = try await daemon.events().filter { $0.type == "login_failed" }
        #expect(failed.count >= 6, "\(failed)")
        let sources = failed.compactMap { $0.data["source"]?.stringValue }
        #expect(sources.filter { $0 == "addr:203.0.113.7" }.count >= 5, "\(sources)")
        let last = try #require(failed.last)
        #expect(last.data["source"]?.stringValue == "uid:\(getuid())")
        #expect(last.data["ignoredOrigin"]?.stringValue == "192.0.2.99", "\(last.data)")
        // A malformed origin is refused, on either socket.
        let forged = await Refusal.of { () async throws(QSMClientError) in
            try await gateway.call(BrokerAPI.Login(username: "carol", password: "x", origin: "203.0.113.7\nforged line"))
        }
        #expect(forged == .broker(.invalidInput(field: "origin", reason: "must be an IP address of at most 64 bytes")))
        await gateway.shutdown()
        await ordinary.shutdown()
    }

    @Test func myAlertsShowsTheCallersOwnAlertsOnly() async throws {
        let daemon = try await GatewayDaemon()
        defer { Task { try await daemon.stop() } }
        let gateway = QSMClient(socketPath: daemon.gateway)
        for user in ["dave", "erin"] {
            _ = try await gateway.call(BrokerAPI.Register(username: user, password: "\(user)-password-1"))
        }
        for _ in 0..<5 {
            _ = try? await gateway.call(BrokerAPI.Login(username: "dave", password: "wrong-password", origin: "203.0.113.8"))
        }
        let dave = try await gateway.call(BrokerAPI.Login(username: "dave", password: "dave-password-1", origin: "198.51.100.1"))
        let erin = try await gateway.call(BrokerAPI.Login(username: "erin", password: "erin-password-1"))
        let daves = try await gateway.call(BrokerAPI.MyAlerts(token: dave.session.token)).alerts
        #expect(daves.contains { $0.rule == "brute_force" && $0.subject == "dave" }, "\(daves)")
        let erins = try await gateway.call(BrokerAPI.MyAlerts(token: erin.session.token)).alerts
        #expect(erins.isEmpty, "\(erins)")
        await #expect(throws: QSMClientError.self) { try await gateway.call(BrokerAPI.MyAlerts(token: "not-a-session")) }
        await gateway.shutdown()
    }
}
