import Foundation

/// Copies a log between stores record for record: the target gets the same bytes at the same
/// positions, so its chain (recomputed as it is written) ends in the same head hash.
public enum LogCopy {
    /// Appends the records of `source` that `target` lacks, up to `source`'s head when the copy starts,
    /// in batches of `batchSize`; returns the target's new head. A copy that stopped half-way resumes.
    ///
    /// - Parameters:
    ///   - progress: called after each batch with (copied so far, to copy in all).
    /// - Throws: ``EventLogError/anotherLog(path:expected:found:)`` when the target holds another log;
    ///   `.corruptRecord` when its head is not a prefix of the source (the two have diverged).
    public static func copy(
        from source: any LogStore, to target: any LogStore, batchSize: Int = 4096,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) async throws(EventLogError) -> LogHead {
        guard source.meta.logID == target.meta.logID else {
            throw .anotherLog(path: target.location, expected: source.meta.logID, found: target.meta.logID)
        }
        let end = try await source.head()
        var head = try await target.head()
        guard head.position <= end.position, try await source.chainHash(at: head.position) == head.hash else {
            throw .corruptRecord(
                reason: "\(target.location) holds \(head.position) events that are not a prefix of \(source.location)")
        }
        let first = head.position
        while head.position < end.position {
            let limit = Int(min(UInt64(max(batchSize, 1)), end.position - head.position))
            var batch = RecordBatch(after: head)
            for event in try await source.read(from: head.position + 1, limit: limit) {
                try batch.append(record: event.record)
            }
            guard !batch.isEmpty else { break }
            head = try await target.append(batch)
            progress?(head.position - first, end.position - first)
        }
        return head
    }
}
