internal import CLMDB
public import Foundation

/// The outcome of checking a log's hash chain from position 1.
public struct VerificationReport: Sendable, Hashable {
    /// What is wrong at the first bad position.
    public enum Problem: Sendable, Hashable, CustomStringConvertible {
        /// The stored chain hash differs from the one recomputed from the records.
        case hashMismatch
        /// An event has no chain entry.
        case missingChainEntry
        /// A chain entry has no event.
        case missingEvent
        /// Positions are not dense: `found` came where `position` was expected.
        case gap(found: UInt64)
        /// The record's header names another position.
        case positionMismatch(recorded: UInt64)
        /// The record does not decode.
        case undecodable(String)
        /// The recorded time is earlier than the previous event's.
        case timeWentBackwards(previousMicros: Int64, recordedMicros: Int64)

        public var description: String {
            switch self {
            case .hashMismatch: return "the stored chain hash does not match the record (the record or the hash was changed)"
            case .missingChainEntry: return "the event has no chain hash"
            case .missingEvent: return "a chain hash exists but the event is missing"
            case .gap(let found): return "positions are not dense: the next stored position is \(found)"
            case .positionMismatch(let recorded): return "the record says it is at position \(recorded)"
            case .undecodable(let reason): return "the record does not decode: \(reason)"
            case .timeWentBackwards(let previous, let recorded):
                return "recorded time \(recorded) µs is before the previous event's \(previous) µs"
            }
        }
    }

    /// Events whose hash was checked and found good.
    public let verifiedEvents: UInt64
    /// h(verifiedEvents), the hash after the last good event.
    public let verifiedHash: Data
    /// The first bad position and what is wrong there; nil when the whole log holds.
    public let firstProblem: (position: UInt64, problem: Problem)?

    public var isValid: Bool { firstProblem == nil }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.verifiedEvents == rhs.verifiedEvents && lhs.verifiedHash == rhs.verifiedHash
            && lhs.firstProblem?.position == rhs.firstProblem?.position
            && lhs.firstProblem?.problem == rhs.firstProblem?.problem
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(verifiedEvents)
        hasher.combine(verifiedHash)
        hasher.combine(firstProblem?.position)
        hasher.combine(firstProblem?.problem)
    }
}

extension EventStore {
    /// Recomputes the hash chain from position `first` (1: the whole log) over one consistent snapshot and
    /// compares it with the stored hashes, positions and times; stops at the first bad position. From a
    /// later position, the stored hash before it is taken as the start: qsmd checks the tail after its
    /// last signed checkpoint this way at every start.
    ///
    /// - Parameters:
    ///   - first: where to start (clamped to 1).
    ///   - progress: called every 65,536 events and at the end with (checked, total).
    ///   - visit: called with each event found good, with its header, so callers can check what the
    ///     events say (signed checkpoints) in the same pass.
    /// - Returns: a report whose `verifiedEvents` counts from position 1 (`first - 1` are taken as good).
    public func verify(
        from first: UInt64 = 1, progress: ((UInt64, UInt64) -> Void)? = nil,
        visit: ((RecordHeader, Data) -> Void)? = nil
    ) throws(EventLogError) -> VerificationReport {
        let dbs = databases
        let first = max(first, 1)
        do {
            return try environment.read { txn in
                var stat = MDB_stat()
                mdb_stat(txn.handle, dbs.events, &stat)
                let total = UInt64(stat.ms_entries)
                var start = (position: UInt64(1), hash: HashChain.genesis, time: Int64.min)
                if first > 1 {
                    let previous = first - 1
                    guard let hash = try Keys.position(previous).withUnsafeBytes({ try txn.get(dbs.chain, key: $0).map { Data($0) } }),
                          let record = try Keys.position(previous).withUnsafeBytes({ try txn.get(dbs.events, key: $0).map { Data($0) } })
                    else {
                        return VerificationReport(
                            verifiedEvents: previous, verifiedHash: HashChain.genesis, firstProblem: (previous, .missingEvent))
                    }
                    let time = (try? RecordHeader(record: record).recordedAtMicros) ?? Int64.min
                    start = (first, hash, time)
                }
                return try txn.withCursor(dbs.events) { events in
                    try txn.withCursor(dbs.chain) { chain in
                        try Self.verify(
                            events: events, chain: chain, start: start, total: total, progress: progress, visit: visit)
                    }
                }
            }
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    private static func verify(
        events: Cursor, chain: Cursor, start: (position: UInt64, hash: Data, time: Int64), total: UInt64,
        progress: ((UInt64, UInt64) -> Void)?, visit: ((RecordHeader, Data) -> Void)?
    ) throws -> VerificationReport {
        var check = ChainCheck(after: start.position - 1, hash: start.hash, time: start.time)
        let key = Keys.position(start.position)
        var event = try key.withUnsafeBytes { try events.get(MDB_SET_RANGE, key: $0) }
        var link = try key.withUnsafeBytes { try chain.get(MDB_SET_RANGE, key: $0) }
        func report(_ problem: VerificationReport.Problem?, at position: UInt64) -> VerificationReport {
            progress?(check.expected - 1, total)
            return check.report(problem, at: position)
        }
        while true {
            guard let current = event else {
                if link != nil { return report(.missingEvent, at: check.expected) }
                return report(nil, at: check.expected)
            }
            let position = try Keys.decodePosition(current.key)
            guard position == check.expected else { return report(.gap(found: position), at: check.expected) }
            guard let stored = link, try Keys.decodePosition(stored.key) == position else {
                return report(.missingChainEntry, at: position)
            }
            let record = Data(current.value)
            switch check.check(position: position, record: record, storedHash: stored.value) {
            case .bad(let problem): return report(problem, at: position)
            case .good(let header): visit?(header, record)
            }
            if position & 0xFFFF == 0 { progress?(position, total) }
            event = try events.get(MDB_NEXT)
            link = try chain.get(MDB_NEXT)
        }
    }
}
