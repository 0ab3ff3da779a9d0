public import EventLog
public import Foundation
import NIOCore
import PostgresNIO

extension PostgresLogStore {
    /// Up to `limit` events from `position` on, in order (one statement: one consistent snapshot).
    public func read(from position: UInt64, limit: Int) async throws(EventLogError) -> [StoredEvent] {
        guard limit > 0 else { return [] }
        let start = Int64(clamping: max(position, 1))
        let count = Int64(clamping: limit)
        do {
            let rows = try await connection.query(
                "SELECT position, record FROM events WHERE position >= \(start) ORDER BY position LIMIT \(count)",
                logger: logger)
            var events: [StoredEvent] = []
            for try await (position, record) in rows.decode((Int64, ByteBuffer).self) {
                events.append(StoredEvent(position: UInt64(position), record: Data(record.readableBytesView)))
            }
            return events
        } catch {
            throw PostgresFailure.map(error, location: location)
        }
    }

    /// Positions of `actor`'s events after `after`, ascending, at most `limit` (index events_by_actor).
    public func positions(actor: String, after: UInt64, limit: Int) async throws(EventLogError) -> [UInt64] {
        guard !actor.isEmpty, limit > 0 else { return [] }
        return try await positions(
            "SELECT position FROM events WHERE actor = \(actor) AND actor <> '' AND position > \(Int64(clamping: after)) ORDER BY position LIMIT \(Int64(clamping: limit))")
    }

    /// Positions of events of type `type` after `after`, ascending, at most `limit` (index events_by_type).
    public func positions(type: UInt32, after: UInt64, limit: Int) async throws(EventLogError) -> [UInt64] {
        guard limit > 0, let type = Int32(exactly: type) else { return [] }
        return try await positions(
            "SELECT position FROM events WHERE type = \(type) AND position > \(Int64(clamping: after)) ORDER BY position LIMIT \(Int64(clamping: limit))")
    }

    /// The highest position of an event of type `type`, or nil.
    public func lastPosition(type: UInt32) async throws(EventLogError) -> UInt64? {
        guard let type = Int32(exactly: type) else { return nil }
        return try await positions("SELECT position FROM events WHERE type = \(type) ORDER BY position DESC LIMIT 1").first
    }

    /// h(position), or nil past the head.
    public func chainHash(at position: UInt64) async throws(EventLogError) -> Data? {
        if position == 0 { return HashChain.genesis }
        do {
            let rows = try await connection.query(
                "SELECT chain FROM events WHERE position = \(Int64(clamping: position))", logger: logger)
            for try await chain in rows.decode(ByteBuffer.self) { return Data(chain.readableBytesView) }
            return nil
        } catch {
            throw PostgresFailure.map(error, location: location)
        }
    }

    private func positions(_ query: PostgresQuery) async throws(EventLogError) -> [UInt64] {
        do {
            var result: [UInt64] = []
            for try await position in try await connection.query(query, logger: logger).decode(Int64.self) {
                result.append(UInt64(position))
            }
            return result
        } catch {
            throw PostgresFailure.map(error, location: location)
        }
    }

    /// Recomputes the chain from `first` over one statement's snapshot, row by row as the server sends
    /// them, with the checks LMDB's verify makes (``ChainCheck``); names the first bad position.
    public func verify(
        from first: UInt64, progress: ((UInt64, UInt64) -> Void)?, visit: ((RecordHeader, Data) -> Void)?
    ) async throws(EventLogError) -> VerificationReport {
        let first = max(first, 1)
        do {
            var check = ChainCheck()
            if first > 1 {
                let previous = first - 1
                guard let before = try await read(from: previous, limit: 1).first, before.position == previous,
                      let hash = try await chainHash(at: previous)
                else {
                    return VerificationReport.missing(at: previous)
                }
                check = ChainCheck(after: previous, hash: hash, time: (try? before.header().recordedAtMicros) ?? .min)
            }
            let total = try await head().position
            let rows = try await connection.query(
                "SELECT position, record, chain FROM events WHERE position >= \(Int64(clamping: first)) ORDER BY position",
                logger: logger)
            var problem: (UInt64, VerificationReport.Problem)?
            for try await (position, record, chain) in rows.decode((Int64, ByteBuffer, ByteBuffer).self) {
                guard problem == nil else { continue }  // drain the rest of the reply
                let bytes = Data(record.readableBytesView)
                switch check.check(position: UInt64(position), record: bytes, storedHash: chain.readableBytesView) {
                case .bad(let found): problem = (check.expected, found)
                case .good(let header): visit?(header, bytes)
                }
                if position & 0xFFFF == 0 { progress?(UInt64(position), total) }
            }
            progress?(check.expected - 1, total)
            return check.report(problem?.1, at: problem?.0)
        } catch {
            throw PostgresFailure.map(error, location: location)
        }
    }
}
