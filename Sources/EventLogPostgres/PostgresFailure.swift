import EventLog
import PostgresNIO

/// Turns postgres-nio's errors into one-line `EventLogError`s. PSQLError's description is deliberately
/// generic (it may not leak query data), so the server's SQLSTATE and message are read here instead.
enum PostgresFailure {
    static func map(_ error: any Error, location: String) -> EventLogError {
        if let error = error as? EventLogError { return error }
        if let error = error as? PostgresTransactionError {
            return map(error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error, location: location)
        }
        guard let error = error as? PSQLError else {
            return .storage(path: location, detail: "\(error)")
        }
        if let state = sqlState(error) {
            let message = error.serverInfo?[.message] ?? "server error"
            switch state {
            case "28P01", "28000":
                return .unavailable(
                    path: location,
                    detail: "the server refused the credentials (\(message)); check the user and the password file or PGPASSWORD")
            case "3D000":
                return .unavailable(path: location, detail: "\(message); create it first (createdb)")
            case "42501":
                return .permissionDenied(path: location, detail: message)
            case "53100":
                return .diskFull(path: location)
            default:
                return .storage(path: location, detail: "\(message) (SQLSTATE \(state))")
            }
        }
        switch error.code {
        case .connectionError:
            let reason = error.underlying.map { "\($0)" } ?? "no answer"
            return .unavailable(path: location, detail: "cannot connect to the PostgreSQL server (\(reason))")
        case .authMechanismRequiresPassword:
            return .unavailable(
                path: location,
                detail: "the server asks for a password; pass --store-password-file FILE or set PGPASSWORD")
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return .unavailable(path: location, detail: "the connection to the PostgreSQL server was lost")
        case .unsupportedAuthMechanism, .saslError:
            return .unavailable(path: location, detail: "authentication failed (\(error.code))")
        default:
            return .storage(path: location, detail: "\(error.code)")
        }
    }

    /// The SQLSTATE the server sent with `error`, if it came from the server.
    static func sqlState(_ error: (any Error)?) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
