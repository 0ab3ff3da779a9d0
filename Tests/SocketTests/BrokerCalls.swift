import QSMClient

/// Well-formed calls to qsmd in tests go through the typed client every client of ours uses.
extension QSMConnection {
    /// Registers `user` (password `user-password`) and logs in; the session token.
    func registerAndLogin(_ user: String) async throws -> String {
        _ = try await call(BrokerAPI.Register(username: user, password: "\(user)-password"))
        return try await login(user)
    }

    /// Logs `user` in (password `user-password` unless given); the session token.
    func login(_ user: String, password: String? = nil) async throws -> String {
        try await call(BrokerAPI.Login(username: user, password: password ?? "\(user)-password")).session.token
    }
}

/// Registers `user` and logs in over a connection of its own to `socket`; the session token.
func registerAndLogin(_ user: String, socket: String) async throws -> String {
    let connection = try await QSMConnection.connect(socketPath: socket)
    do {
        let token = try await connection.registerAndLogin(user)
        await connection.close()
        return token
    } catch {
        await connection.close()
        throw error
    }
}

/// org.varlink.service.GetInfo, which every Varlink service answers.
struct GetInfo: QSMRequest {
    static let method = "org.varlink.service.GetInfo"
    struct Reply: Decodable, Sendable {
        var vendor: String
        var product: String
        var version: String
        var url: String
        var interfaces: [String]
    }
}

/// What one call was answered with, for tests that go over many methods alike: the error's name (nil on
/// success) and InvalidSession's reason.
struct Outcome: CustomStringConvertible {
    var error: String?
    var reason: String?
    var detail = ""

    /// Calls `request` on `connection` (a streaming one until its first reply) and says how it went.
    static func of(_ connection: QSMConnection, _ request: any QSMRequest) async -> Outcome {
        if let streaming = request as? any QSMStreamingRequest { return await first(connection, streaming) }
        return await single(connection, request)
    }

    private static func single<Request: QSMRequest>(_ connection: QSMConnection, _ request: Request) async -> Outcome {
        do {
            return Outcome(detail: "\(try await connection.call(request))")
        } catch {
            return Outcome(error)
        }
    }

    private static func first<Request: QSMStreamingRequest>(_ connection: QSMConnection, _ request: Request) async -> Outcome {
        do {
            for try await reply in connection.stream(request) { return Outcome(detail: "\(reply)") }
            return Outcome(error: "the stream ended without a reply")
        } catch {
            return Outcome(error as? QSMClientError ?? .connection("\(error)"))
        }
    }

    init(error: String? = nil, reason: String? = nil, detail: String = "") {
        self.error = error
        self.reason = reason
        self.detail = detail
    }

    init(_ error: QSMClientError) {
        self.error = error.replyName ?? "\(error)"
        if case .broker(.invalidSession(let reason)) = error { self.reason = reason }
        detail = "\(error)"
    }

    var description: String { "\(error ?? "success") \(detail)" }
}

extension QSMConnection {
    /// `call(request)`, giving up after `timeout` by closing the connection (which fails the call): for a
    /// qsmd that may never answer.
    func call<Request: QSMRequest>(_ request: Request, within timeout: Duration) async throws -> Request.Reply {
        try await withThrowingTaskGroup(of: Request.Reply?.self) { group in
            group.addTask { try await self.call(request) }
            group.addTask {
                // Cancelled once the reply came: the connection stays open.
                do { try await Task.sleep(for: timeout) } catch { return nil }
                await self.close()
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let reply = result { return reply }
            }
            throw QSMClientError.connection("no reply within \(timeout)")
        }
    }
}
