import Foundation

extension Broker {
    /// The latest alerts (at most `limit`, default 20, at most 100) whose subject is the session user's
    /// own account, newest first: brute force on it, key exchanges of theirs that aborted or drift. A user
    /// sees these without being an administrator; alerts about sources, the system or others stay admin-only.
    public func myAlerts(token: String, limit: Int? = nil, caller: Caller) async throws(BrokerError) -> [IDSProjection.Alert] {
        let limit = try Validation.limit(limit, default: 20, max: 100)
        return try await submit(MyAlertsCommand(token: PresentedToken(token), limit: limit), caller: caller).get()
    }
}

/// MyAlerts: the session user's own alerts from the intrusion detection's recent ones. Read-only.
struct MyAlertsCommand: BrokerCommand {
    let token: PresentedToken
    let limit: Int

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<[IDSProjection.Alert], BrokerError> {
        state.authenticate(token, method: "MyAlerts", decision: &decision).map { user in
            Array(state.ids.alerts.reversed().lazy.filter { $0.subject == user }.prefix(limit))
        }
    }
}
