import Foundation
import Hummingbird
import HummingbirdTesting
import QSMClient
@testable import QSMWeb

/// A real qsmd with its gateway socket and qsm-web's router in front of it.
struct WebFixture {
    let daemon: GatewayDaemon
    let face: WebFace

    init(tls: Bool = false) async throws {
        daemon = try await GatewayDaemon()
        face = try WebFace(configuration: WebConfiguration(socketPath: daemon.gateway, tls: tls))
    }

    /// Runs `body` against the router (no sockets but qsmd's), then stops everything.
    func run(_ setup: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: face.router())
        do {
            try await app.test(setup, body)
        } catch {
            await face.shutdown()
            try await daemon.stop()
            throw error
        }
        await face.shutdown()
        try await daemon.stop()
    }

    /// A typed client of the gateway, to check what the pages did in the broker.
    var broker: QSMClient { face.client }
}

extension String {
    /// The ids of the messages an inbox page links to, newest first.
    var messageIDs: [String] {
        components(separatedBy: "href=\"/messages/").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }
}
