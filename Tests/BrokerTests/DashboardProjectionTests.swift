import Broker
import Foundation
import QSMEvents
import SwiftProtobuf
import Testing

@Suite("Dashboard projection: bounded state for the page and the metrics")
struct DashboardProjectionTests {
    static func event(_ position: UInt64, minute: Int64, _ body: QSMEvent.OneOf_Body) -> QSMEvent {
        var event = QSMEvent()
        event.position = position
        event.recordedAtUs = minute * 60_000_000 + Int64(position % 60)
        event.body = body
        return event
    }

    @Test func keepsTheLatestHundredExchangesAndCountsAlertsByRuleAndSeverity() {
        var dashboard = DashboardProjection()
        var position: UInt64 = 0
        for index in 0..<250 {
            position += 1
            let aborted = index % 5 == 0
            let figures = QSMBB84Figures.with {
                $0.qber = aborted ? 0.25 : Double(index) / 10_000
                $0.qberUpperBound = $0.qber + 0.03
                $0.abortThreshold = 0.11
                $0.finalBits = aborted ? 0 : 1_000
            }
            let body: QSMEvent.OneOf_Body = aborted
                ? .keyExchangeAborted(QSMKeyExchangeAborted.with { $0.figures = figures })
                : .keyExchangeCompleted(QSMKeyExchangeCompleted.with { $0.figures = figures })
            dashboard.evolve(Self.event(position, minute: 29_000_000 + Int64(index), body))
        }
        #expect(dashboard.recentExchanges.count == DashboardProjection.recentExchangeLimit)
        #expect(dashboard.recentExchanges.first?.at == Self.event(151, minute: 29_000_150, .loggedOut(QSMLoggedOut())).recordedAtUs)
        #expect(dashboard.recentExchanges.last?.qber == 249.0 / 10_000)
        #expect(dashboard.recentExchanges.filter(\.aborted).count == 20)
        #expect(dashboard.recentExchanges.allSatisfy { $0.threshold == 0.11 })
        #expect(dashboard.counters.keyExchanges == 200 && dashboard.counters.keyExchangesAborted == 50)
        #expect(dashboard.counters.keyBitsMade == 200_000)
        // 250 minutes of events: the series keeps them all (within 24 hours), no more.
        #expect(dashboard.series(lastMinutes: 1_440).count == 1_440)

        for (rule, severity) in [("brute_force", QSMSeverity.high), ("brute_force", .high), ("spraying", .critical)] {
            position += 1
            dashboard.evolve(Self.event(position, minute: 29_000_300, .alertRaised(QSMAlertRaised.with {
                $0.rule = rule
                $0.severity = severity
            })))
        }
        #expect(dashboard.counters.alertsByRule == ["brute_force": ["high": 2], "spraying": ["critical": 1]])
        #expect(dashboard.counters.alerts == ["high": 2, "critical": 1])
    }
}
