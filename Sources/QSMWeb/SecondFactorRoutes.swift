import Foundation
import Hummingbird
import QRCode
import QSMClient

extension WebFace {
    /// /mfa: turn the TOTP second factor on (a QR code to scan, a first code, the recovery codes once),
    /// turn it off, or get new recovery codes (docs/mfa.md).
    func addSecondFactorRoutes(to router: Router<WebContext>) {
        router.get("/mfa") { request, _ -> Response in
            guard let session = self.signedIn(request) else { return Self.redirect("/login") }
            return self.page("mfa", title: "Second factor", session: session, ["menu": true])
        }
        router.post("/mfa/start") { request, _ -> Response in
            let session = self.signedIn(request)
            _ = try await self.checkedForm(request, session: session, fields: [])
            guard let session, let token = session.brokerToken else { return Self.redirect("/login") }
            switch try await self.calling(session, { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.StartSecondFactor(token: token))
            }) {
            case .success(let reply):
                // The secret is on this page once; the SVG is drawn by libqrencode from the URI alone.
                let svg = (try? QRCode(encoding: reply.uri))?.svg() ?? ""
                return self.page("mfa", title: "Second factor", session: session, ["enrol": true, "qr": svg, "uri": reply.uri])
            case .failure(let refusal):
                return self.page("mfa", title: "Second factor", session: session, ["menu": true],
                                 error: Explain.sentence(refusal), status: .unprocessableContent)
            }
        }
        router.post("/mfa/confirm") { request, _ -> Response in
            let session = self.signedIn(request)
            let form = try await self.checkedForm(request, session: session, fields: ["code"])
            guard let session, let token = session.brokerToken else { return Self.redirect("/login") }
            return try await self.showingRecoveryCodes(session) { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.ConfirmSecondFactor(token: token, code: form["code"] ?? "")).recoveryCodes
            }
        }
        router.post("/mfa/recovery-codes") { request, _ -> Response in
            let session = self.signedIn(request)
            let form = try await self.checkedForm(request, session: session, fields: ["code"])
            guard let session, let token = session.brokerToken else { return Self.redirect("/login") }
            return try await self.showingRecoveryCodes(session) { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.NewRecoveryCodes(token: token, code: form["code"] ?? "")).recoveryCodes
            }
        }
        router.post("/mfa/disable") { request, _ -> Response in
            let session = self.signedIn(request)
            let form = try await self.checkedForm(request, session: session, fields: ["password", "code"])
            guard let session, let token = session.brokerToken else { return Self.redirect("/login") }
            switch try await self.calling(session, { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.DisableSecondFactor(
                    token: token, password: form["password"] ?? "", code: form["code"] ?? ""))
            }) {
            case .success:
                return self.page("mfa", title: "Second factor", session: session, ["menu": true],
                                 notice: "The second factor is off: logins need only your password now.")
            case .failure(let refusal):
                return self.page("mfa", title: "Second factor", session: session, ["menu": true],
                                 error: Explain.sentence(refusal), status: .unprocessableContent)
            }
        }
    }

    /// The page that shows a set of recovery codes once, or the menu with the refusal's sentence.
    private func showingRecoveryCodes(
        _ session: WebSession, _ call: () async throws(QSMClientError) -> [String]
    ) async throws -> Response {
        switch try await calling(session, call) {
        case .success(let codes):
            return page("mfa", title: "Second factor", session: session, ["hasCodes": true, "codes": codes.map { ["code": $0] }],
                        notice: "The second factor is on. Keep these recovery codes somewhere safe: each works once, "
                            + "in place of a code, and they are shown only now.")
        case .failure(let refusal):
            return page("mfa", title: "Second factor", session: session, ["menu": true],
                        error: Explain.sentence(refusal), status: .unprocessableContent)
        }
    }
}
