public import EventLog
import Foundation
import Glibc
public import QSMEvents

/// A read-only view of a data directory's log for forensic work, safe beside a running qsmd.
///
/// Every answer is computed over the prefix of the log up to the head read when the work began, so
/// events appended meanwhile never make an answer inconsistent (the log only grows).
public final class ForensicLog: Sendable {
    /// The log, opened read-only.
    public let store: EventStore

    /// Opens the log of the data directory `dataDirectory` (as given to `qsmd --data`) read-only.
    public convenience init(dataDirectory: String) throws(ForensicsError) {
        try self.init(logDirectory: dataDirectory + "/log")
    }

    /// Opens the log in `logDirectory` (the directory holding data.mdb) read-only.
    public init(logDirectory: String) throws(ForensicsError) {
        do {
            store = try EventStore(directory: logDirectory, mode: .readOnly)
        } catch {
            throw ForensicsError(error)
        }
    }

    /// Wraps a store already open (tests, benchmarks).
    public init(store: EventStore) {
        self.store = store
    }

    /// The last position as of now.
    public func headPosition() throws(ForensicsError) -> UInt64 {
        do { return try store.head().position } catch { throw ForensicsError(error) }
    }

    // MARK: Reading

    /// Calls `body` with each event in `range`, decoded, in order, reading in chunks of short read
    /// transactions so a slow consumer pins no old pages. `prefilter`, given the raw record, may skip
    /// an event before it is decoded.
    public func scan(
        _ range: ClosedRange<UInt64>, prefilter: ((StoredEvent) -> Bool)? = nil,
        _ body: (QSMEvent) throws(ForensicsError) -> Void
    ) throws(ForensicsError) {
        var next = range.lowerBound
        while next <= range.upperBound {
            let wanted = min(range.upperBound - next + 1, 4096)
            let chunk: [StoredEvent]
            do { chunk = try store.read(from: next, limit: Int(wanted)) } catch { throw ForensicsError(error) }
            guard let last = chunk.last else { return }
            for stored in chunk where stored.position <= range.upperBound {
                if let prefilter, !prefilter(stored) { continue }
                try body(try Self.decode(stored))
            }
            next = last.position + 1
        }
    }

    /// Calls `body` with the events at `positions` (ascending), reading runs of consecutive positions
    /// together.
    public func read(
        positions: [UInt64], prefilter: ((StoredEvent) -> Bool)? = nil,
        _ body: (QSMEvent) throws(ForensicsError) -> Void
    ) throws(ForensicsError) {
        var index = 0
        while index < positions.count {
            var end = index + 1
            while end < positions.count, positions[end] == positions[end - 1] + 1, end - index < 4096 { end += 1 }
            let chunk: [StoredEvent]
            do { chunk = try store.read(from: positions[index], limit: end - index) } catch { throw ForensicsError(error) }
            for stored in chunk {
                if let prefilter, !prefilter(stored) { continue }
                try body(try Self.decode(stored))
            }
            index = end
        }
    }

    static func decode(_ stored: StoredEvent) throws(ForensicsError) -> QSMEvent {
        do {
            return try QSMEvent(stored)
        } catch {
            throw .data("position \(stored.position) does not decode (\(error)); run `qsm audit verify` on the data directory")
        }
    }

    // MARK: Time

    /// The positions within `bounds` whose events were recorded in [since, until), or nil if none.
    /// Recorded times never go backwards in the log, so two binary searches find them.
    public func positions(
        recordedFrom since: Int64?, until: Int64?, within bounds: ClosedRange<UInt64>
    ) throws(ForensicsError) -> ClosedRange<UInt64>? {
        var lower = bounds.lowerBound
        var upper = bounds.upperBound
        if let since {
            // First position whose time is >= since.
            lower = try firstPosition(in: bounds) { $0 >= since }
        }
        if let until {
            // Last position whose time is < until: one before the first whose time is >= until.
            let first = try firstPosition(in: bounds) { $0 >= until }
            guard first > bounds.lowerBound else { return nil }
            upper = first - 1
        }
        return lower <= upper ? lower...upper : nil
    }

    /// The first position in `bounds` whose time satisfies `isAtOrPast` (monotonic), or one past the end.
    private func firstPosition(in bounds: ClosedRange<UInt64>, _ isAtOrPast: (Int64) -> Bool) throws(ForensicsError)
        -> UInt64
    {
        var low = bounds.lowerBound
        var high = bounds.upperBound + 1
        while low < high {
            let middle = low + (high - low) / 2
            if isAtOrPast(try recordedAt(middle)) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    private func recordedAt(_ position: UInt64) throws(ForensicsError) -> Int64 {
        do {
            guard let stored = try store.event(at: position) else {
                throw ForensicsError.data("position \(position) is missing from the log")
            }
            return try stored.header().recordedAtMicros
        } catch let error as ForensicsError {
            throw error
        } catch let error as EventLogError {
            throw ForensicsError(error)
        } catch {
            throw .data("position \(position): \(error)")
        }
    }
}

/// Finds `needle` in `record` without decoding it: a cheap test that lets a scan skip most events.
/// (memchr for the first byte, then memcmp; Glibc's memmem needs _GNU_SOURCE, which Swift's Glibc
/// module does not define.)
func record(_ stored: StoredEvent, contains needle: [UInt8]) -> Bool {
    guard let first = needle.first else { return true }
    return stored.record.withUnsafeBytes { haystack in
        needle.withUnsafeBytes { pattern in
            guard var cursor = haystack.baseAddress, haystack.count >= pattern.count else { return false }
            let last = haystack.baseAddress! + (haystack.count - pattern.count)
            while cursor <= last {
                guard let hit = memchr(cursor, Int32(first), last - cursor + 1) else { return false }
                if memcmp(hit, pattern.baseAddress!, pattern.count) == 0 { return true }
                cursor = UnsafeRawPointer(hit) + 1
            }
            return false
        }
    }
}
