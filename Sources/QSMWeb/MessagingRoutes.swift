import Hummingbird
import QSMClient

extension WebFace {
    /// /send, /inbox, /messages/{id}, /messages/{id}/decrypt and /history.
    func addMessagingRoutes(to router: Router<WebContext>) {
        router.get("/send") { request, _ -> Response in
            guard let session = self.signedIn(request) else { return Self.redirect("/login") }
            return self.page("send", title: "Encrypt Message", session: session, ["aes": true])
        }
        router.post("/send") { request, _ -> Response in
            let session = self.signedIn(request)
            let form = try await self.checkedForm(request, session: session, fields: ["to", "body", "mode"])
            guard let session, let token = session.brokerToken else { return Self.redirect("/login") }
            let to = form["to"] ?? "", body = form["body"] ?? "", mode = form["mode"] ?? "aes"
            var values: [String: Any] = ["to": to, "body": body, mode: true]
            guard ["otp", "aes", "pqc"].contains(mode) else {
                values["aes"] = true
                return self.page("send", title: "Encrypt Message", session: session, values,
                                 error: "Choose one of the three encryption modes and send again.", status: .unprocessableContent)
            }
            let sent = try await self.calling(session) { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.Send(token: token, to: to, body: body, mode: mode))
            }
            switch sent {
            case .success:
                return self.page("send", title: "Encrypt Message", session: session, ["aes": true],
                                 notice: "Encrypted with \(mode) and sent to \(to).")
            case .failure(let refusal):
                return self.page("send", title: "Encrypt Message", session: session, values, error: Explain.sentence(refusal),
                                 status: .unprocessableContent)
            }
        }
        router.get("/inbox") { request, _ -> Response in
            guard let session = self.signedIn(request), let token = session.brokerToken else { return Self.redirect("/login") }
            let result = try await self.calling(session) { () async throws(QSMClientError) in
                let page = try await self.client.call(BrokerAPI.Inbox(token: token, limit: 100))
                // A page that holds the whole inbox counts its own unread; only a longer inbox asks again.
                if page.more == 0 { return (page, page.messages.filter { !$0.read }.count) }
                let unread = try await self.client.call(BrokerAPI.Inbox(token: token, unreadOnly: true, limit: 1)).total
                return (page, unread)
            }
            guard case .success(let (page, unread)) = result else { throw WebFailure.brokerUnreachable }
            let rows = page.messages.map { self.inboxRows.html(for: $0, templates: self.templates) }.joined()
            return self.page("inbox", title: "Inbox", session: session,
                             ["rows": rows, "hasMessages": !page.messages.isEmpty, "total": page.total, "unread": unread > 0 ? unread : false])
        }
        router.get("/messages/:id") { request, context -> Response in
            guard let session = self.signedIn(request), let token = session.brokerToken else { return Self.redirect("/login") }
            let id = try Self.messageID(context)
            let found = try await self.calling(session) { () async throws(QSMClientError) in
                try await self.findInInbox(id, token: token)
            }
            guard case .success(let message?) = found else { throw WebFailure.notFound }
            return self.page("messageDetail", title: "Message from \(message.from)", session: session, [
                "messageId": message.messageId, "from": message.from, "sentAt": Explain.time(message.sentAt),
                "mode": message.mode, "size": message.size,
            ])
        }
        router.post("/messages/:id/decrypt") { request, context -> Response in
            let session = self.signedIn(request)
            _ = try await self.checkedForm(request, session: session, fields: [])
            guard let session, let token = session.brokerToken else { return Self.redirect("/login") }
            let id = try Self.messageID(context)
            let opened = try await self.calling(session) { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.Decrypt(token: token, messageId: id))
            }
            switch opened {
            case .success(let message):
                return self.page("messageDetail", title: "Message from \(message.from)", session: session, [
                    "messageId": id, "from": message.from, "sentAt": Explain.time(message.sentAt), "mode": message.mode,
                    "size": message.body.utf8.count, "plaintext": message.body,
                ])
            case .failure(.noSuchMessage), .failure(.accessDenied):
                // Another user's message looks exactly like one that does not exist.
                throw WebFailure.notFound
            case .failure(let refusal):
                return self.page("failure", title: "Message", session: session, error: Explain.sentence(refusal),
                                 status: .unprocessableContent)
            }
        }
        router.get("/history") { request, _ -> Response in
            guard let session = self.signedIn(request), let token = session.brokerToken else { return Self.redirect("/login") }
            let result = try await self.calling(session) { () async throws(QSMClientError) in
                try await self.client.call(BrokerAPI.History(token: token, limit: 100))
            }
            guard case .success(let page) = result else { throw WebFailure.brokerUnreachable }
            let rows: [[String: Any]] = page.entries.map { ["at": Explain.time($0.at), "kind": $0.kind, "summary": $0.summary] }
            return self.page("history", title: "History", session: session, ["entries": rows, "total": page.total])
        }
    }

    /// The {id} of a message path: letters, digits, '-' and '_' only, else 404 like an unknown id.
    static func messageID(_ context: WebContext) throws(WebFailure) -> String {
        guard let id = context.parameters.get("id"), (1...80).contains(id.utf8.count),
              id.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") })
        else { throw .notFound }
        return id
    }

    /// The inbox entry of message `id`, paging through the inbox; nil when it is not the user's.
    func findInInbox(_ id: String, token: String) async throws(QSMClientError) -> BrokerAPI.InboxMessage? {
        var cursor: String?
        for _ in 0..<50 {
            let page = try await client.call(BrokerAPI.Inbox(token: token, limit: 1000, cursor: cursor))
            if let message = page.messages.first(where: { $0.messageId == id }) { return message }
            guard let next = page.cursor else { return nil }
            cursor = next
        }
        return nil
    }
}
