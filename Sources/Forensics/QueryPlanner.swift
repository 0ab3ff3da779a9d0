import EventLog
import Foundation
public import QSMEvents

/// How a query reads the log: which events it looks at before applying `EventQuery.matches`.
public struct QueryPlan: Sendable, CustomStringConvertible {
    /// The events to look at.
    public enum Access: Sendable {
        /// Nothing can match (an empty log, an empty time window, disjoint index lists).
        case nothing
        /// Every event in the range.
        case scan(ClosedRange<UInt64>)
        /// Only these positions (ascending), found in the named indexes.
        case positions([UInt64], indexes: [String])
    }

    public let access: Access
    /// The head the plan was made against: nothing past it is read.
    public let head: UInt64

    public var description: String {
        switch access {
        case .nothing: "nothing can match (head \(head))"
        case .scan(let range): "scan positions \(range.lowerBound)...\(range.upperBound) (head \(head))"
        case .positions(let positions, let indexes):
            "\(positions.count) candidates from \(indexes.joined(separator: " ∩ ")) (head \(head))"
        }
    }
}

extension ForensicLog {
    /// Plans `query`: narrows the position range by --from/--to and, through two binary searches, by
    /// the time window; then, with `useIndexes`, takes the candidate positions from the by_actor and
    /// by_type indexes (a message id narrows to the three types that name one), intersecting the lists
    /// starting from the shortest. Without an indexed filter it scans the range.
    public func plan(_ query: EventQuery, useIndexes: Bool = true) throws(ForensicsError) -> QueryPlan {
        try query.validate()
        let head = try headPosition()
        guard let bounds = try positionBounds(query, head: head) else { return QueryPlan(access: .nothing, head: head) }
        guard useIndexes else { return QueryPlan(access: .scan(bounds), head: head) }

        var lists: [(name: String, positions: [UInt64])] = []
        if let actor = query.actor {
            lists.append(("by_actor", try indexed(bounds) { after throws(EventLogError) in try store.positions(actor: actor, after: after) }))
        }
        var types = query.types
        if query.messageID != nil {
            let named = Set(EventFacts.messageTypes)
            types = types.isEmpty ? named : types.intersection(named)
            if types.isEmpty { return QueryPlan(access: .nothing, head: head) }
        }
        if !types.isEmpty {
            var union: [UInt64] = []
            for type in types.sorted(by: { $0.rawValue < $1.rawValue }) {
                let positions = try indexed(bounds) { after throws(EventLogError) in
                    try store.positions(type: type.rawValue, after: after)
                }
                union = union.isEmpty ? positions : Self.mergeUnion(union, positions)
            }
            lists.append(("by_type", union))
        }
        guard !lists.isEmpty else { return QueryPlan(access: .scan(bounds), head: head) }
        lists.sort { $0.positions.count < $1.positions.count }
        var candidates = lists[0].positions
        for other in lists.dropFirst() { candidates = Self.intersect(candidates, other.positions) }
        return QueryPlan(access: .positions(candidates, indexes: lists.map(\.name)), head: head)
    }

    /// Calls `body` with every event matching `query`, in log order, as of the head when it began.
    ///
    /// - Parameter useIndexes: false reads every event in the range (the baseline the benchmark and
    ///   tests compare against).
    public func forEach(
        matching query: EventQuery, useIndexes: Bool = true, _ body: (QSMEvent) throws(ForensicsError) -> Void
    ) throws(ForensicsError) {
        let plan = try plan(query, useIndexes: useIndexes)
        let prefilter = query.messageID.map(Self.messagePrefilter)
        let filter: (QSMEvent) throws(ForensicsError) -> Void = { event throws(ForensicsError) in
            if query.matches(event) { try body(event) }
        }
        switch plan.access {
        case .nothing: return
        case .scan(let range): try scan(range, prefilter: prefilter, filter)
        case .positions(let positions, _): try read(positions: positions, prefilter: prefilter, filter)
        }
    }

    /// Every event matching `query`, in log order.
    public func events(matching query: EventQuery, useIndexes: Bool = true) throws(ForensicsError) -> [QSMEvent] {
        var result: [QSMEvent] = []
        try forEach(matching: query, useIndexes: useIndexes) { result.append($0) }
        return result
    }

    /// The positions (within the head) that --from/--to and --since/--until allow, or nil if none.
    func positionBounds(_ query: EventQuery, head: UInt64) throws(ForensicsError) -> ClosedRange<UInt64>? {
        let lower = max(query.from ?? 1, 1)
        let upper = min(query.to ?? head, head)
        guard lower <= upper else { return nil }
        guard query.since != nil || query.until != nil else { return lower...upper }
        return try positions(recordedFrom: query.since, until: query.until, within: lower...upper)
    }

    /// An index's positions within `bounds`.
    private func indexed(_ bounds: ClosedRange<UInt64>, _ lookup: (UInt64) throws(EventLogError) -> [UInt64])
        throws(ForensicsError) -> [UInt64]
    {
        do {
            var positions = try lookup(bounds.lowerBound - 1)
            if let last = positions.last, last > bounds.upperBound {
                positions.removeSubrange(Self.firstIndex(in: positions, atLeast: bounds.upperBound + 1)...)
            }
            return positions
        } catch {
            throw ForensicsError(error)
        }
    }

    /// A raw-record test that no event naming `id` fails: the id's bytes (message_sent,
    /// message_decrypted) or its hex digits (access_denied, which the broker writes in lowercase; upper
    /// case is tried too).
    static func messagePrefilter(_ id: Data) -> (StoredEvent) -> Bool {
        let raw = [UInt8](id)
        let lower = Array(HexDigits.encode(id).utf8)
        let upper = Array(HexDigits.encode(id).uppercased().utf8)
        return { stored in
            record(stored, contains: raw) || record(stored, contains: lower) || record(stored, contains: upper)
        }
    }

    /// The first index at or after `start` whose value is at least `value` (binary search).
    static func firstIndex(in sorted: [UInt64], atLeast value: UInt64, from start: Int = 0) -> Int {
        var low = start
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The positions in both ascending lists: binary searches from the shorter one when the other is
    /// much longer, a merge otherwise.
    static func intersect(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        var result: [UInt64] = []
        if small.count * 16 < large.count {
            var start = 0
            for value in small {
                start = firstIndex(in: large, atLeast: value, from: start)
                if start < large.count, large[start] == value { result.append(value) }
            }
            return result
        }
        var i = 0
        var j = 0
        while i < small.count, j < large.count {
            if small[i] == large[j] {
                result.append(small[i])
                i += 1
                j += 1
            } else if small[i] < large[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }

    /// The positions in either ascending list, ascending, once each.
    static func mergeUnion(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i] < b[j]) {
                result.append(a[i])
                i += 1
            } else if i == a.count || b[j] < a[i] {
                result.append(b[j])
                j += 1
            } else {
                result.append(a[i])
                i += 1
                j += 1
            }
        }
        return result
    }
}
