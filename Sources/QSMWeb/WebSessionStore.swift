import Foundation
import Synchronization

/// A browser's session as qsm-web keeps it, in memory only: the cookie holds nothing but `id`, an
/// opaque random value; the broker's token stays here. A session without a user is a visitor's, made so
/// the login and registration forms carry a CSRF value too; logging in replaces it with a new id.
struct WebSession: Sendable {
    /// The cookie's value.
    let id: String
    /// The value every form of this session carries back (the `csrf` field).
    let csrf: String
    /// The signed-in user and their broker session, nil for a visitor.
    let username: String?
    let brokerToken: String?
    let expiresAt: Date

    var isSignedIn: Bool { brokerToken != nil }
}

/// Sessions by id, bounded in number and lifetime: a flood of visitors evicts the oldest visitors, never
/// a signed-in user's session before its time.
final class WebSessionStore: Sendable {
    let maxSessions: Int
    let visitorLifetime: TimeInterval
    private let sessions = Mutex<[String: WebSession]>([:])

    init(maxSessions: Int = 20_000, visitorLifetime: TimeInterval = 3_600) {
        self.maxSessions = maxSessions
        self.visitorLifetime = visitorLifetime
    }

    /// A new visitor session.
    func visitor(now: Date = Date()) -> WebSession {
        insert(WebSession(
            id: SecretText.random(), csrf: SecretText.random(), username: nil, brokerToken: nil,
            expiresAt: now.addingTimeInterval(visitorLifetime)), now: now)
    }

    /// A new signed-in session for `username`, expiring with the broker's (`expiresAt`).
    func signIn(username: String, brokerToken: String, expiresAt: Date, now: Date = Date()) -> WebSession {
        insert(WebSession(
            id: SecretText.random(), csrf: SecretText.random(), username: username, brokerToken: brokerToken,
            expiresAt: expiresAt), now: now)
    }

    /// The live session the cookie value `id` names, if any.
    func session(_ id: String?, now: Date = Date()) -> WebSession? {
        guard let id, !id.isEmpty, id.utf8.count <= 64 else { return nil }
        return sessions.withLock { table in
            guard let session = table[id] else { return nil }
            guard session.expiresAt > now else {
                table[id] = nil
                return nil
            }
            return session
        }
    }

    /// Forgets the session `id`.
    func remove(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    private func insert(_ session: WebSession, now: Date) -> WebSession {
        sessions.withLock { table in
            if table.count >= maxSessions {
                table = table.filter { $0.value.expiresAt > now }
                if table.count >= maxSessions {
                    let visitors = table.values.filter { !$0.isSignedIn }.sorted { $0.expiresAt < $1.expiresAt }
                    for old in visitors.prefix(table.count - maxSessions + 1) { table[old.id] = nil }
                }
            }
            table[session.id] = session
        }
        return session
    }
}
