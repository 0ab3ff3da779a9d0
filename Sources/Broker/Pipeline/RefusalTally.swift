import Foundation
import QSMEvents
import SwiftProtobuf

/// Refusals the deciders left out of the log because their source spent its burst
/// (`IDSRules.refusalBurst`), counted per source and written as one refusals_aggregated event per
/// window: a flood of bad calls costs the log one small event a minute instead of one per call.
///
/// The counts live only here until they are written (at the first batch or writer tick after the window
/// ends, and in the closing batch); a crash loses at most one window of counts of refusals that changed
/// nothing. Deciding thread only.
struct RefusalTally {
    private struct Entry {
        var count: UInt64 = 0
        var first: Int64
        var last: Int64
        var kinds: [String: UInt64] = [:]
    }

    private var entries: [String: Entry] = [:]

    /// Whether nothing waits to be written.
    var isEmpty: Bool { entries.isEmpty }

    /// Counts the refusals of `kinds` from `source`, decided at `now`.
    mutating func add(source: String, kinds: [String], at now: Int64) {
        guard !kinds.isEmpty else { return }
        var entry = entries[source] ?? Entry(first: now, last: now)
        entry.count += UInt64(kinds.count)
        entry.last = now
        for kind in kinds { entry.kinds[kind, default: 0] += 1 }
        entries[source] = entry
    }

    /// Takes the aggregates whose window (`window` microseconds from their first refusal) has ended by
    /// `now`, or every one when `all`; in source order, so a batch's content does not depend on hashing.
    mutating func takeDue(now: Int64, window: Int64, all: Bool) -> [QSMRefusalsAggregated] {
        let due = entries.filter { all || now - $0.value.first >= window }.keys.sorted()
        return due.map { source in
            let entry = entries.removeValue(forKey: source)!
            return QSMRefusalsAggregated.with {
                $0.source = source
                $0.count = entry.count
                $0.firstAtUs = entry.first
                $0.lastAtUs = entry.last
                $0.kinds = entry.kinds.sorted { $0.key < $1.key }.map { kind in
                    QSMRefusalsAggregated.KindCount.with {
                        $0.kind = kind.key
                        $0.count = kind.value
                    }
                }
            }
        }
    }
}
