import EventLog
import Metrics
import Synchronization

/// The broker's measurements, through the swift-metrics API only: the executable chooses the backend
/// (qsmd bootstraps Prometheus with `--metrics-listen`; without a bootstrap every call is a no-op).
///
/// Group commits report their size and latency. The event counters are not counted at call sites: after
/// each durable commit they are brought up to the dashboard projection's totals, so they always equal
/// what the Dashboard method returns (totals since the log began, which only grow: the log is append-only,
/// so a restart does not reset them).
final class PipelineMetrics: Sendable {
    /// Created on first use, which is after the executable's `MetricsSystem.bootstrap`.
    static let shared = PipelineMetrics()

    private let batchCommands = Recorder(label: "qsm_commit_batch_commands")
    private let batchEvents = Recorder(label: "qsm_commit_batch_events")
    private let commitDuration = Metrics.Timer(label: "qsm_commit_duration_seconds")

    private struct Published {
        /// The value each counter was last brought to, by series key.
        var values: [String: UInt64] = [:]
        var counters: [String: Counter] = [:]
    }

    private let published = Mutex(Published())

    /// Records one durable group commit of `commands` commands, then brings the event counters up to
    /// `state`'s totals.
    func committed(_ commit: Committed, commands: Int, state: borrowing Mutex<BrokerState>) {
        let elapsed = commit.duration
        let events = commit.events
        commitDuration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        batchCommands.record(commands)
        batchEvents.record(events)
        publish(state.withLock { $0.dashboard.counters })
    }

    /// Brings every event counter up to `counters` (never down: counters only grow).
    func publish(_ counters: DashboardProjection.Counters) {
        var series: [(name: String, labels: [(String, String)], value: UInt64)] = [
            ("qsm_registrations_total", [], counters.registrations),
            ("qsm_logins_total", [("outcome", "succeeded")], counters.loginsSucceeded),
            ("qsm_logins_total", [("outcome", "failed")], counters.loginsFailed),
            ("qsm_key_exchanges_total", [("outcome", "completed")], counters.keyExchanges),
            ("qsm_key_exchanges_total", [("outcome", "aborted")], counters.keyExchangesAborted),
            ("qsm_key_bits_made_total", [], counters.keyBitsMade),
            ("qsm_key_bits_used_total", [], counters.keyBitsUsed),
            ("qsm_access_denied_total", [], counters.accessDenied),
        ]
        for (mode, count) in counters.encryptions { series.append(("qsm_messages_encrypted_total", [("mode", mode)], count)) }
        for (mode, count) in counters.decryptions { series.append(("qsm_messages_decrypted_total", [("mode", mode)], count)) }
        for (rule, severities) in counters.alertsByRule {
            for (severity, count) in severities {
                series.append(("qsm_alerts_total", [("rule", rule), ("severity", severity)], count))
            }
        }
        published.withLock { published in
            for entry in series {
                let key = entry.name + "{" + entry.labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
                let last = published.values[key] ?? 0
                guard entry.value > last || published.counters[key] == nil else { continue }
                let counter = published.counters[key] ?? Counter(label: entry.name, dimensions: entry.labels)
                published.counters[key] = counter
                if entry.value > last { counter.increment(by: Int64(clamping: entry.value - last)) }
                published.values[key] = max(entry.value, last)
            }
        }
    }
}

extension Broker {
    /// Brings the metrics' event counters up to the current state's totals. qsmd calls it once at start,
    /// so a scrape before the first commit already shows the totals since the log began; every durable
    /// commit does it again.
    public func publishMetrics() {
        PipelineMetrics.shared.publish(read { $0.dashboard.counters })
    }
}
