import Foundation

extension Broker {
    /// The log's head now and after every commit that appended events; a slow consumer skips to the
    /// newest. The stream ends when the broker closes or the consumer stops.
    public func changes() -> AsyncStream<UInt64> {
        stage.changes.subscribe(current: read { $0.position })
    }

    /// Alerts recorded after position `after`, oldest first (admins; refusals recorded).
    public func alerts(after position: UInt64, caller: Caller) async throws(BrokerError) -> [IDSProjection.Alert] {
        try await submit(AdminQuery(method: "WatchAlerts") { $0.ids.alerts.filter { $0.position > position } }, caller: caller)
            .get()
    }
}
