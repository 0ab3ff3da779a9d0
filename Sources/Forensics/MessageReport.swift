public import Foundation
public import QSMEvents

/// Everything the log says about one message: who sent it to whom and how, who read it, who was
/// refused it, and the alerts that cite any of those events. Each event carries its time and peer.
public struct MessageReport: Sendable, Equatable {
    public let messageID: Data
    /// The message_sent event(s): one for a real message.
    public var sent: [QSMEvent] = []
    /// message_decrypted events: the recipient read it.
    public var reads: [QSMEvent] = []
    /// access_denied events on this message: someone else tried to read it.
    public var denied: [QSMEvent] = []
    /// alert_raised events whose evidence or trigger is one of the events above.
    public var alerts: [QSMEvent] = []

    /// - Parameter messageID: the 16-byte id.
    public init(messageID: Data) {
        self.messageID = messageID
    }

    /// True if the log names the message nowhere.
    public var isEmpty: Bool { sent.isEmpty && reads.isEmpty && denied.isEmpty }

    /// The positions of the events about the message itself (not the alerts), ascending.
    public var positions: [UInt64] { (sent + reads + denied).map(\.position).sorted() }

    /// Files `event` (which names the message) under sent, reads or denied.
    mutating func add(_ event: QSMEvent) {
        switch event.body {
        case .messageSent?: sent.append(event)
        case .messageDecrypted?: reads.append(event)
        case .accessDenied?: denied.append(event)
        default: break
        }
    }

    /// Whether `alert` cites one of `positions` (sorted) as evidence or trigger.
    static func cites(_ alert: QSMAlertRaised, _ positions: Set<UInt64>) -> Bool {
        positions.contains(alert.triggerPosition) || alert.evidencePositions.contains(where: positions.contains)
    }
}

extension ForensicLog {
    /// The report on message `id` (see `MessageReport`), as of the head when it began. Events that
    /// name the message come from the by_type index of the three types that can; alerts from the
    /// by_type index of alert_raised.
    public func message(_ id: Data, useIndexes: Bool = true) throws(ForensicsError) -> MessageReport {
        var query = EventQuery()
        query.messageID = id
        let head = try headPosition()
        query.to = max(head, 1)
        var report = MessageReport(messageID: id)
        guard head > 0 else { return report }
        try forEach(matching: query, useIndexes: useIndexes) { report.add($0) }
        guard !report.isEmpty else { return report }
        let cited = Set(report.positions)
        var alerts = EventQuery()
        alerts.types = [.alertRaised]
        alerts.from = cited.min()
        alerts.to = head
        try forEach(matching: alerts, useIndexes: useIndexes) { event in
            if case .alertRaised(let alert)? = event.body, MessageReport.cites(alert, cited) { report.alerts.append(event) }
        }
        return report
    }
}
