import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore

/// One browser's view of qsm-web in a route test: it keeps the session cookie and the latest page's
/// CSRF value, as a browser and a person filling in the page's forms would.
final class WebBrowser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?

    init(_ client: any TestClientProtocol) { self.client = client }

    struct Page {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String
        var location: String? { headers[.location] }
    }

    /// GET `path`.
    @discardableResult
    func get(_ path: String, headers extra: HTTPFields = [:]) async throws -> Page {
        try await send(path, method: .get, headers: extra, body: nil)
    }

    /// POST the form `fields` to `path`, with this browser's CSRF value unless `csrf` says otherwise.
    @discardableResult
    func post(_ path: String, _ fields: [(String, String)], csrf: String?? = .none, headers extra: HTTPFields = [:]) async throws -> Page {
        var pairs = fields
        let value: String? = switch csrf { case .none: self.csrf; case .some(let given): given }
        if let value { pairs.append(("csrf", value)) }
        let body = pairs.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await postRaw(path, ByteBuffer(string: body), headers: extra)
    }

    /// POST `body` as a form as it is.
    @discardableResult
    func postRaw(_ path: String, _ body: ByteBuffer, headers extra: HTTPFields = [:]) async throws -> Page {
        var headers = extra
        if headers[.contentType] == nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        return try await send(path, method: .post, headers: headers, body: body)
    }

    private func send(_ path: String, method: HTTPRequest.Method, headers extra: HTTPFields, body: ByteBuffer?) async throws -> Page {
        var headers = extra
        if let cookie, headers[.cookie] == nil { headers[.cookie] = "qsm_session=\(cookie)" }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
        if let set = response.headers[.setCookie], let value = Self.cookieValue(set) {
            cookie = value.isEmpty ? nil : value
        }
        let text = response.body.getString(at: response.body.readerIndex, length: response.body.readableBytes) ?? ""
        if let found = Self.csrfValue(in: text) { csrf = found }
        return Page(status: response.status, headers: response.headers, body: text)
    }

    static func cookieValue(_ header: String) -> String? {
        guard header.hasPrefix("qsm_session=") else { return nil }
        return String(header.dropFirst("qsm_session=".count).prefix { $0 != ";" })
    }

    static func csrfValue(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Registers and logs in `user` (password "<user>-password-1").
    func signUp(_ user: String) async throws {
        try await get("/register")
        try await post("/register", [("username", user), ("password", "\(user)-password-1"), ("confirm", "\(user)-password-1")])
        try await get("/login")
        try await post("/login", [("username", user), ("password", "\(user)-password-1")])
    }
}
