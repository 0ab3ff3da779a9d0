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

    /// The series keeps every minute of the last 24 hours of event time and nothing older: the oldest and
    /// newest kept minutes count right, and a minute just past the window is dropped, not merely hidden.
    @Test func theSeriesKeepsTheLastDayOfMinutesAndNoMore() {
        let window = DashboardProjection.seriesMinutes
        let latest: Int64 = 29_001_000
        let oldestKept = latest - window + 1
        var dashboard = DashboardProjection()
        var position: UInt64 = 0
        func add(_ minute: Int64, _ body: QSMEvent.OneOf_Body, times: Int = 1) {
            for _ in 0..<times {
                position += 1
                dashboard.evolve(Self.event(position, minute: minute, body))
            }
        }
        let send = QSMEvent.OneOf_Body.messageSent(QSMMessageSent())
        // One minute older than the window will be once `latest` arrives; seen first, as event time runs.
        add(oldestKept - 1, send, times: 5)
        add(oldestKept, send, times: 2)
        add(oldestKept, .loginFailed(QSMLoginFailed()))
        add(latest - 700, send, times: 4)
        add(latest, send, times: 3)
        add(latest, .alertRaised(QSMAlertRaised()))

        let series = dashboard.series(lastMinutes: 1_440)
        #expect(series.count == Int(window))
        #expect(series.first?.minute == oldestKept && series.last?.minute == latest)
        #expect(series.first?.counts.sends == 2 && series.first?.counts.loginsFailed == 1)
        #expect(series.last?.counts.sends == 3 && series.last?.counts.alerts == 1)
        #expect(series.map(\.counts.sends).reduce(0, +) == 9, "the 5 sends a minute before the window are not counted")
        #expect(dashboard.minutes[String(oldestKept - 1)] == nil, "a minute older than 24 hours is dropped")
        #expect(dashboard.minutes.count == 3, "\(dashboard.minutes.keys.sorted())")
        // Asking for more than a day gives the day, no more.
        #expect(dashboard.series(lastMinutes: 5_000).count == Int(window))
    }
}
