import HTTPTypes
import Hummingbird
import Logging
import QSMClient

/// Adds the security headers to every response, and turns every failure into a page of its own with a
/// status and one sentence (never a stack trace), so one bad request never costs others anything.
struct SecurityMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let face: WebFace

    /// Only what the pages use, from qsm-web itself: no inline script or style, no framing, no plugins.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    /// For browsers older than frame-ancestors.
    static let frameOptions = HTTPField.Name("X-Frame-Options")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let failure as WebFailure {
            response = failurePage(failure, request)
        } catch is SessionEnded {
            var redirect = WebFace.redirect("/login?ended=1")
            redirect.setCookie(Cookie(name: WebFace.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            response = redirect
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            response = failurePage(.notFound, request)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            response = failurePage(.tooLarge, request)
        } catch let error as QSMClientError {
            if case .connection = error {
                response = failurePage(.brokerUnreachable, request)
            } else {
                face.logger.error("Unexpected reply from qsmd", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
                response = face.page("failure", title: "Something went wrong", session: nil,
                                     error: "qsm-web got an answer it did not expect from the broker: try again.",
                                     status: .badGateway)
            }
        } catch {
            face.logger.error("Request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = face.page("failure", title: "Something went wrong", session: nil,
                                 error: "qsm-web could not answer this request: try again.", status: .internalServerError)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        response.headers[Self.frameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    private func failurePage(_ failure: WebFailure, _ request: Request) -> Response {
        let titles: [HTTPResponse.Status: String] = [
            .badRequest: "Bad request", .contentTooLarge: "Too large", .forbidden: "Refused", .notFound: "Not found",
            .serviceUnavailable: "Broker unavailable",
        ]
        return face.page(
            "failure", title: titles[failure.status] ?? "Error", session: face.signedIn(request), error: failure.sentence,
            status: failure.status)
    }
}
