import Foundation
import QSMCrypto
import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// A session token as presented, reduced to what the deciders look up: its id (SHA-256), or nil when
/// the text is not a token at all.
struct PresentedToken: Sendable {
    let sessionID: Data?

    init(_ text: String) {
        sessionID = (try? SessionToken(transportEncoding: text))?.sessionID
    }
}

extension BrokerState {
    /// The user whose live session `token` names, or the refusal, recording it (and an expiry the first
    /// time an expired session is used) so the intrusion detection sees stale and forged tokens.
    func authenticate(_ token: PresentedToken, method: String, decision: inout Decision) -> Result<String, BrokerError> {
        func deny(_ reason: QSMAccessDenied.Reason, user: String, _ error: BrokerError) -> Result<String, BrokerError> {
            decision.refuse(.accessDenied(QSMAccessDenied.with {
                $0.username = user
                $0.method = method
                $0.reason = reason
            }), actor: user, state: self)
            return .failure(error)
        }
        guard let id = token.sessionID, let session = sessions[id] else {
            return deny(.noSession, user: "", .noSession)
        }
        switch session.ending {
        case .loggedOut?, .passwordChanged?: return deny(.revokedSession, user: session.username, .sessionRevoked)
        case .expired?: return deny(.expiredSession, user: session.username, .sessionExpired)
        case nil: break
        }
        if session.expiresAt <= decision.now {
            decision.emit(.sessionExpired(QSMSessionExpired.with {
                $0.username = session.username
                $0.sessionID = id
                $0.expiredAtUs = session.expiresAt
            }), actor: session.username)
            return deny(.expiredSession, user: session.username, .sessionExpired)
        }
        return .success(session.username)
    }

    /// The user a token names if its session is live at `now`, without recording anything: for the work
    /// done before a command is decided (the decider checks again and records refusals).
    func peekSession(_ token: PresentedToken, now: Int64) -> String? {
        guard let id = token.sessionID, let session = sessions[id], session.ending == nil, session.expiresAt > now
        else { return nil }
        return session.username
    }
}

extension Decision {
    /// Records a refused admin call.
    mutating func denyAdmin(method: String, state: BrokerState) -> BrokerError {
        refuse(.accessDenied(QSMAccessDenied.with {
            $0.method = method
            $0.reason = .notAdmin
        }), actor: "", state: state)
        return .notAdmin
    }
}
