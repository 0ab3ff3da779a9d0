import HTTPTypes
public import Hummingbird
public import Logging
import Mustache
import NIOCore
public import QSMClient

/// How qsm-web runs.
public struct WebConfiguration: Sendable {
    /// qsmd's gateway socket.
    public var socketPath: String
    /// Whether qsm-web serves HTTPS: session cookies are then marked Secure.
    public var tls: Bool
    /// Connections to qsmd kept open for calls (streams have their own).
    public var poolSize: Int

    public init(socketPath: String, tls: Bool = false, poolSize: Int = 8) {
        self.socketPath = socketPath
        self.tls = tls
        self.poolSize = poolSize
    }
}

/// The web face: its routes, sessions and templates over one typed client of qsmd's gateway socket.
public final class WebFace: Sendable {
    public let configuration: WebConfiguration
    /// The pooled client every request calls qsmd through.
    public let client: QSMClient
    let sessions = WebSessionStore()
    let templates: MustacheLibrary
    /// The inbox's rows as rendered, by message and read state.
    let inboxRows = RowCache()
    let logger: Logger

    /// The name of the session cookie.
    static let cookieName = "qsm_session"
    /// Where a browser says a request came from (same-origin, same-site, cross-site or none).
    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// A web face calling `configuration.socketPath`.
    public init(configuration: WebConfiguration, logger: Logger = Logger(label: "qsm-web")) throws {
        self.configuration = configuration
        self.client = QSMClient(socketPath: configuration.socketPath, maxConnections: configuration.poolSize)
        self.templates = try Templates.library()
        self.logger = logger
    }

    /// The router with every page, behind the security middleware.
    public func router() -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        router.add(middleware: SecurityMiddleware(face: self))
        addAccountRoutes(to: router)
        addDashboardRoutes(to: router)
        addMessagingRoutes(to: router)
        addKeyRoutes(to: router)
        addSecondFactorRoutes(to: router)
        router.get("/static/:file") { _, context -> Response in
            guard let name = context.parameters.get("file"), let file = StaticAssets.files[name] else { throw WebFailure.notFound }
            return Response(
                status: .ok, headers: [.contentType: file.type, .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: file.body)))
        }
        return router
    }

    /// Closes the connections to qsmd.
    public func shutdown() async { await client.shutdown() }

    // MARK: Helpers for the routes

    /// The page `template` filled with `data`, plus what every page has.
    func page(
        _ template: String, title: String, session: WebSession?, _ data: [String: Any] = [:], error: String? = nil,
        notice: String? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        var values = data
        values["title"] = title
        if let session {
            values["csrf"] = session.csrf
            if let user = session.username { values["user"] = user }
        }
        if let error { values["error"] = error }
        if let notice { values["notice"] = notice }
        let html = templates.render(values, withTemplate: template) ?? ""
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// `response` with the cookie that names `session`.
    func withCookie(_ response: Response, _ session: WebSession) -> Response {
        var response = response
        response.setCookie(Cookie(
            name: Self.cookieName, value: session.id, path: "/", secure: configuration.tls, httpOnly: true, sameSite: .strict))
        return response
    }

    /// The session the request's cookie names.
    func session(of request: Request) -> WebSession? {
        sessions.session(request.cookies[Self.cookieName]?.value)
    }

    /// The signed-in session, or nil: the caller redirects to /login.
    func signedIn(_ request: Request) -> WebSession? {
        guard let session = session(of: request), session.isSignedIn else { return nil }
        return session
    }

    /// A redirect that a browser follows with GET.
    static func redirect(_ path: String) -> Response { .redirect(to: path, type: .normal) }

    /// The form of a state-changing request, after checking its CSRF value against `session`'s and its
    /// Origin header (when sent) against the host it was sent to: a mismatch is 403 and nothing is done.
    func checkedForm(_ request: Request, session: WebSession?, fields: Set<String>) async throws(WebFailure) -> FormBody {
        let form = try await FormBody.read(request, allowed: fields)
        guard let session, let sent = form["csrf"], SecretText.same(sent, session.csrf) else {
            logger.notice("Refused a form without its session's CSRF value", metadata: [
                "path": "\(request.uri.path)", "session": "\(session == nil ? "none" : "known")",
            ])
            throw .forbidden
        }
        // Under Referrer-Policy no-referrer browsers send "Origin: null" even for the site's own forms, so
        // an origin is compared only when it names one; Sec-Fetch-Site, sent whatever the policy, says
        // whether the form came from another site.
        let scheme = configuration.tls ? "https" : "http"
        let host = request.head.authority ?? ""
        if let origin = request.headers[.origin], origin != "null", !SecretText.same(origin, "\(scheme)://\(host)") {
            logger.notice("Refused a form from another origin", metadata: [
                "path": "\(request.uri.path)", "origin": "\(origin.prefix(100))", "host": "\(host.prefix(100))",
            ])
            throw .forbidden
        }
        if let site = request.headers[Self.fetchSite], site != "same-origin", site != "none" {
            logger.notice("Refused a form from another site", metadata: ["path": "\(request.uri.path)", "site": "\(site.prefix(40))"])
            throw .forbidden
        }
        return form
    }

    /// Runs a call for a signed-in page: an ended session goes back to /login, a declared refusal to
    /// `refused` (which renders the page with its sentence), an unreachable qsmd to the 503 page.
    func calling<T: Sendable>(
        _ session: WebSession, _ body: () async throws(QSMClientError) -> T
    ) async throws -> Result<T, BrokerAPIError> {
        do {
            return .success(try await body())
        } catch {
            switch error {
            case .broker(.invalidSession):
                sessions.remove(session.id)
                throw SessionEnded()
            case .broker(let refusal): return .failure(refusal)
            case .connection: throw WebFailure.brokerUnreachable
            case .reply, .admin, .malformedReply: throw error
            }
        }
    }
}

/// The broker ended the session (expired, logged out elsewhere, password changed): back to /login.
struct SessionEnded: Error {}
