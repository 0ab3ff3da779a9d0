import Foundation
import Hummingbird
import NIOCore

/// An application/x-www-form-urlencoded body read with the limits bad input needs: at most
/// ``maxBytes``, UTF-8, only the fields the page takes, each once.
struct FormBody {
    /// Forms larger than this get 413.
    static let maxBytes = 64 * 1024

    let fields: [String: String]

    subscript(_ name: String) -> String? { fields[name] }

    /// The body of `request`, whose page takes the fields `allowed` (plus `csrf`).
    static func read(_ request: Request, allowed: Set<String>) async throws(WebFailure) -> FormBody {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes { throw .tooLarge }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw .badRequest("This page takes a form (application/x-www-form-urlencoded): send the form again from the page.")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: maxBytes) } catch { throw .tooLarge }
        guard let text = String(bytes: Array(body.readableBytesView), encoding: .utf8),
              let fields = parse(text, allowed: allowed.union(["csrf"]))
        else {
            throw .badRequest("The form was not valid UTF-8 text: send it again from the page.")
        }
        return FormBody(fields: try fields.get())
    }

    /// The fields of `text`, or nil when a value is not UTF-8; a failure for unknown or repeated fields.
    static func parse(_ text: String, allowed: Set<String>) -> Result<[String: String], WebFailure>? {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { return nil }
            guard allowed.contains(name) else {
                return .failure(.badRequest("The form has a field this page does not take (\(name.prefix(40))): use the form on the page."))
            }
            guard fields[name] == nil else {
                return .failure(.badRequest("The form sent \(name) twice: use the form on the page."))
            }
            fields[name] = value
        }
        return .success(fields)
    }

    /// A percent-encoded component with + for space, or nil when it does not decode to UTF-8.
    private static func decode(_ component: Substring) -> String? {
        String(component).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
