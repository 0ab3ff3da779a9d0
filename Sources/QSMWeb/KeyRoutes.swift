import Foundation
import Hummingbird
import QSMClient

extension WebFace {
    /// /keys: runs BB84 with a peer and shows each stage's figures.
    func addKeyRoutes(to router: Router<WebContext>) {
        router.get("/keys") { request, _ -> Response in
            guard let session = self.signedIn(request), let token = session.brokerToken else { return Self.redirect("/login") }
            return self.page("keys", title: "Key exchange", session: session, try await self.pools(session, token))
        }
        router.post("/keys") { request, _ -> Response in
            let session = self.signedIn(request)
            let form = try await self.checkedForm(request, session: session, fields: ["peer", "qubits", "noise", "eavesdropper"])
            guard let session, let token = session.brokerToken else { return Self.redirect("/login") }
            let peer = form["peer"] ?? ""
            var values: [String: Any] = [
                "peer": peer, "qubits": form["qubits"] ?? "", "noise": form["noise"] ?? "", "eavesdropper": form["eavesdropper"] ?? "",
            ]
            func number<T: LosslessStringConvertible>(_ name: String, _ words: String) throws(KeyFormError) -> T? {
                guard let text = form[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
                guard let value = T(text) else { throw KeyFormError(sentence: words) }
                return value
            }
            let qubits: Int?, noise: Double?, eavesdropper: Double?
            do {
                qubits = try number("qubits", "The number of qubits must be a whole number, such as 200000: correct it and try again.")
                noise = try number("noise", "The noise must be a number between 0 and 0.5, such as 0.01: correct it and try again.")
                eavesdropper = try number(
                    "eavesdropper", "The eavesdropper fraction must be a number between 0 and 1, such as 0.5: correct it and try again.")
            } catch let error as KeyFormError {
                values.merge(try await self.pools(session, token)) { old, _ in old }
                return self.page("keys", title: "Key exchange", session: session, values, error: error.sentence,
                                 status: .unprocessableContent)
            }
            let run = try await self.calling(session) { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.EstablishKey(
                    token: token, peer: peer, qubits: qubits, noise: noise, eavesdropper: eavesdropper))
            }
            values.merge(try await self.pools(session, token)) { old, _ in old }
            switch run {
            case .success(let reply):
                let e = reply.exchange
                values["exchange"] = [
                    "peer": e.peer, "qubitsSent": e.qubitsSent, "sifted": e.sifted, "sampleSize": e.sampleSize,
                    "qber": Explain.percent(e.qber), "qberUpperBound": Explain.percent(e.qberUpperBound),
                    "verdict": e.qberUpperBound <= 0.11 ? "below, so the key is safe to use" : "over",
                    "leakedBits": e.leakedBits, "finalBits": e.finalBits, "keyId": e.keyId,
                ] as [String: Any]
                return self.page("keys", title: "Key exchange", session: session, values,
                                 notice: "A new key of \(e.finalBits) bits is shared with \(e.peer).")
            case .failure(let refusal):
                if case .eavesdroppingDetected(let qber, let bound, let threshold) = refusal {
                    values["aborted"] = [
                        "qber": Explain.percent(qber), "qberUpperBound": Explain.percent(bound), "threshold": Explain.percent(threshold),
                    ]
                }
                return self.page("keys", title: "Key exchange", session: session, values, error: Explain.sentence(refusal),
                                 status: .unprocessableContent)
            }
        }
    }

    /// The user's key pools for the table under the form.
    func pools(_ session: WebSession, _ token: String) async throws -> [String: Any] {
        let result = try await calling(session) { () async throws(QSMClientError) in
            try await client.call(BrokerAPI.KeyStatus(token: token)).pools
        }
        let pools = (try? result.get()) ?? []
        let rows: [[String: Any]] = pools.map { ["peer": $0.peer, "availableBits": $0.availableBits, "keys": $0.keys] }
        return ["pools": rows, "hasPools": !rows.isEmpty]
    }
}

/// A number field of the key exchange form that is not a number.
struct KeyFormError: Error {
    let sentence: String
}
