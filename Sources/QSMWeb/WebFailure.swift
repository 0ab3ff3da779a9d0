import Hummingbird

/// What ends a request with a page of its own rather than the page it asked for: each has a status and
/// one sentence saying what to do, never a stack trace.
enum WebFailure: Error, Sendable {
    /// Malformed input: 400 with the reason.
    case badRequest(String)
    /// A body over ``FormBody/maxBytes``: 413.
    case tooLarge
    /// A state-changing request without its session's CSRF value or from another origin: 403.
    case forbidden
    /// No such page, or a message that is not the user's: 404, alike.
    case notFound
    /// qsmd is down or restarting: 503.
    case brokerUnreachable

    var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .tooLarge: .contentTooLarge
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .brokerUnreachable: .serviceUnavailable
        }
    }

    var sentence: String {
        switch self {
        case .badRequest(let reason): reason
        case .tooLarge: "The form is larger than 64 KiB: shorten the message and send it again."
        case .forbidden: "This form has expired or did not come from this site: reload the page and submit it again."
        case .notFound: "There is no such page or message here: go back to your inbox."
        case .brokerUnreachable: "qsm-web cannot reach the qsm broker right now: try again in a moment."
        }
    }
}
