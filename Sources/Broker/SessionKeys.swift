import Foundation
import QSMCrypto
import QSMEvents
import EventLog
import Synchronization

extension Broker {
    /// The pqc private key of the live session of `token`: from memory, or, after a restart, unsealed
    /// from the session's login event with the token itself (the broker keeps only the token's hash, so
    /// it cannot do this without the caller). Nil for an ended or expired session, a session without a
    /// sealed key (logged in before it existed), or a token that does not open it.
    func sessionPrivateKey(token: String) -> PQCPrivateKeyHandle? {
        guard let parsed = try? SessionToken(transportEncoding: token) else { return nil }
        let id = parsed.sessionID.hex
        if let key = sessionKeys.withLock({ $0[id] }) { return key }
        let now = configuration.clock()
        guard let (user, position) = read({ state -> (String, UInt64)? in
            guard let session = state.sessions[parsed.sessionID], session.ending == nil, session.expiresAt > now,
                  let position = session.sealedKeyAt
            else { return nil }
            return (session.username, position)
        }) else { return nil }
        guard let stored = try? store.event(at: position), case .loginSucceeded(let login)? = try? QSMEvent(stored).body,
              login.hasSessionPrivateKey,
              let key = try? SessionKeySealing.open(WrappedSecret(login.sessionPrivateKey), token: parsed, username: user)
        else { return nil }
        sessionKeys.withLock { $0[id] = key }
        return key
    }
}
