public import QSMClient

extension DashboardHTML {
    /// One row of the alerts table: what an administrator's alert and a user's own have in common.
    public struct Alert: Sendable, Equatable {
        /// Microseconds since the epoch.
        public var at: Int
        public var severity: String
        public var rule: String
        public var subject: String
        public var message: String

        /// An alert as io.qsm.Admin.Alerts gives it.
        public init(_ alert: AdminAPI.Alert) {
            self.init(at: alert.at, severity: alert.severity, rule: alert.rule, subject: alert.subject, message: alert.message)
        }

        /// An alert as io.qsm.Broker.MyAlerts gives it.
        public init(_ alert: BrokerAPI.UserAlert) {
            self.init(at: alert.at, severity: alert.severity, rule: alert.rule, subject: alert.subject, message: alert.message)
        }

        public init(at: Int, severity: String, rule: String, subject: String, message: String) {
            self.at = at
            self.severity = severity
            self.rule = rule
            self.subject = subject
            self.message = message
        }
    }
}
