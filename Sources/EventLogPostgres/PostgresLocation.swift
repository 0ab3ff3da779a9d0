public import Foundation

/// Where a log on PostgreSQL lives: `postgresql://USER@HOST:PORT/DATABASE`, optionally with
/// `?host=/socket/directory` to connect over a Unix socket instead of TCP.
///
/// A password never comes with the URL (command lines are visible to every user in `ps`): it comes
/// from a file or from PGPASSWORD, see ``PostgresLocation/password(file:environment:)``.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public let user: String
    public let host: String
    public let port: Int
    public let database: String
    /// The directory of the server's Unix socket, when the URL names one.
    public let socketDirectory: String?

    /// Whether `text` names a PostgreSQL store rather than a directory.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Parses `url`.
    ///
    /// - Throws: `PostgresLocation.Invalid` with one line saying what is wrong.
    public init(_ url: String) throws(Invalid) {
        guard Self.isURL(url), let components = URLComponents(string: url) else {
            throw Invalid("'\(Self.redacted(url))' is not a PostgreSQL URL; write postgresql://USER@HOST:PORT/DATABASE")
        }
        if case .some = components.password {
            throw Invalid(
                "the store URL carries a password, which any user could read on the command line; "
                    + "remove it and pass --store-password-file FILE or set PGPASSWORD")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid("the store URL names no user; write postgresql://USER@HOST:PORT/DATABASE")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid("the store URL names no database; write postgresql://USER@HOST:PORT/DATABASE")
        }
        let socket = components.queryItems?.first(where: { $0.name == "host" })?.value
        let unknown = (components.queryItems ?? []).map(\.name).filter { $0 != "host" }
        guard unknown.isEmpty else {
            throw Invalid("the store URL has an unknown parameter '\(unknown[0])'; only host=/socket/directory is understood")
        }
        guard let host = components.host, !host.isEmpty || socket != nil else {
            throw Invalid("the store URL names no host; write postgresql://USER@HOST:PORT/DATABASE")
        }
        if let socket, !socket.hasPrefix("/") {
            throw Invalid("the store URL's host parameter must be the absolute directory of the server's socket")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw Invalid("the store URL's port \(port) is out of range") }
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        socketDirectory = socket
    }

    /// The URL as given, never with a password (there is none).
    public var description: String {
        let base = "postgresql://\(user)@\(host):\(port)/\(database)"
        return socketDirectory.map { base + "?host=" + $0 } ?? base
    }

    /// The password for this store: the first line of `file` when given, otherwise PGPASSWORD, otherwise
    /// none (the server may trust the connection).
    ///
    /// - Throws: `Invalid` when the file cannot be read or is empty.
    public static func password(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(Invalid) -> String?
    {
        guard let file else { return environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 } }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Invalid("cannot read the password file \(file)")
        }
        let password = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .first.map(String.init) ?? ""
        guard !password.isEmpty else { throw Invalid("the password file \(file) is empty") }
        return password
    }

    /// `url` with anything between "://" and "@" that looks like a password cut out, for messages.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// A bad store URL or password source, in one line.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
