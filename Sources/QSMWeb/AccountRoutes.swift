import Foundation
import Hummingbird
import QSMClient

extension WebFace {
    /// /, /login, /register and /logout.
    func addAccountRoutes(to router: Router<WebContext>) {
        router.get("/") { request, _ -> Response in
            Self.redirect(self.signedIn(request) == nil ? "/login" : "/dashboard")
        }
        router.get("/login") { request, _ -> Response in
            if self.signedIn(request) != nil { return Self.redirect("/dashboard") }
            let visitor = self.session(of: request) ?? self.sessions.visitor()
            let query = request.uri.queryParameters
            let notice: String? =
                query["registered"] != nil ? "Your account is ready: log in."
                : query["ended"] != nil ? "Your session has ended: log in again."
                : query["out"] != nil ? "You are logged out." : nil
            return self.withCookie(self.page("login", title: "Log in", session: visitor, notice: notice), visitor)
        }
        router.post("/login") { request, context -> Response in
            let visitor = self.session(of: request)
            let form = try await self.checkedForm(request, session: visitor, fields: ["username", "password", "code"])
            let username = form["username"] ?? ""
            // The second step of a login with a second factor: the same form again, with the code. The
            // password is typed again rather than kept by qsm-web between the two steps.
            let code = form["code"].flatMap { $0.isEmpty ? nil : $0 }
            do {
                let reply = try await self.client.call(BrokerAPI.Login(
                    username: username, password: form["password"] ?? "", code: code, origin: context.clientAddress))
                if let visitor { self.sessions.remove(visitor.id) }
                // A new id at login: a value planted before it (session fixation) names nothing afterwards.
                let session = self.sessions.signIn(
                    username: reply.session.username, brokerToken: reply.session.token,
                    expiresAt: Date(timeIntervalSince1970: Double(reply.session.expiresAt) / 1_000_000))
                return self.withCookie(Self.redirect("/dashboard"), session)
            } catch QSMClientError.broker(let refusal) {
                let status: HTTPResponse.Status = refusal == .authenticationFailed ? .unauthorized : .unprocessableContent
                // Once the broker asked for a code, the form keeps asking for it.
                let needsCode = refusal == .secondFactorRequired || code != nil
                return self.page("login", title: "Log in", session: visitor, ["username": username, "needsCode": needsCode],
                                 error: Explain.sentence(refusal), status: status)
            }
        }
        router.get("/register") { request, _ -> Response in
            if self.signedIn(request) != nil { return Self.redirect("/dashboard") }
            let visitor = self.session(of: request) ?? self.sessions.visitor()
            return self.withCookie(self.page("register", title: "Register", session: visitor), visitor)
        }
        router.post("/register") { request, context -> Response in
            let visitor = self.session(of: request)
            let form = try await self.checkedForm(request, session: visitor, fields: ["username", "password", "confirm"])
            let username = form["username"] ?? ""
            func again(_ sentence: String) -> Response {
                self.page("register", title: "Register", session: visitor, ["username": username], error: sentence,
                          status: .unprocessableContent)
            }
            guard SecretText.same(form["password"] ?? "", form["confirm"] ?? "") else {
                return again("The two passwords differ: type the same password twice.")
            }
            do {
                _ = try await self.client.call(BrokerAPI.Register(
                    username: username, password: form["password"] ?? "", origin: context.clientAddress))
                return Self.redirect("/login?registered=1")
            } catch QSMClientError.broker(let refusal) {
                return again(Explain.sentence(refusal))
            }
        }
        router.post("/logout") { request, _ -> Response in
            let session = self.session(of: request)
            _ = try await self.checkedForm(request, session: session, fields: [])
            if let session {
                self.sessions.remove(session.id)
                // Ends the broker's session too: the token is worthless from here on, wherever it is.
                if let token = session.brokerToken {
                    do { _ = try await self.client.call(BrokerAPI.Logout(token: token)) } catch QSMClientError.connection {
                        throw WebFailure.brokerUnreachable
                    } catch {
                        // Already ended (expired, or logged out elsewhere): nothing more to end.
                    }
                }
            }
            var response = Self.redirect("/login?out=1")
            response.setCookie(Cookie(
                name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: self.configuration.tls, httpOnly: true,
                sameSite: .strict))
            return response
        }
    }
}
