import EventLog
import Foundation
import QSMEvents
import Synchronization

/// A rebuild's replay on three threads of its own, each handing chunks of events to the next: one
/// decodes records, one folds them into the message tables' image (and finds the mode of each message
/// a MessageDecrypted read, which the state needs), one folds them into the state. The three took 2.2,
/// 2.6 and 2.9 µs an event one after another on one thread (tools/bench broker's rebuild breakdown);
/// side by side the slowest sets the pace. Not on Swift's cooperative pool: a replay of a long log is
/// seconds of work.
final class ParallelReplay: @unchecked Sendable {
    // @unchecked: `state` belongs to the state thread and `tables` to the tables thread until all three
    // have finished (`done`), and only then to the caller; `failure` is behind its mutex.
    private var state: BrokerState
    private var tables: TableImage
    private let failure = Mutex<(any Error)?>(nil)
    private let decoded: HandOver<[QSMEvent]>
    private let folded: HandOver<(events: [QSMEvent], modes: [String?])>
    private let chunkSize: Int

    /// Events a chunk holds; chunks waiting between two threads, at most.
    init(state: BrokerState, tables: TableImage, chunkSize: Int = 1024, queuedChunks: Int = 4) {
        self.state = state
        self.tables = tables
        self.chunkSize = chunkSize
        decoded = HandOver(capacity: queuedChunks)
        folded = HandOver(capacity: queuedChunks)
    }

    /// Folds the events after the state's position through `last`; the state and tables as folded.
    func run(store: EventStore, through last: UInt64) async throws -> (BrokerState, TableImage) {
        let after = state.position
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let remaining = Mutex(3)
            let done: @Sendable () -> Void = { [self] in
                guard remaining.withLock({ $0 -= 1; return $0 }) == 0 else { return }
                if let error = failure.withLock({ $0 }) { continuation.resume(throwing: error) } else { continuation.resume() }
            }
            start("qsm-replay-decode", done) { [self] in try decode(store: store, after: after, through: last) }
            start("qsm-replay-tables", done) { [self] in try foldTables() }
            start("qsm-replay-state", done) { [self] in foldState() }
        }
        return (state, tables)
    }

    private func start(_ name: String, _ done: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch {
                failure.withLock { $0 = $0 ?? error }
                decoded.cancel()
                folded.cancel()
            }
            done()
        }
        thread.name = name
        thread.start()
    }

    private func decode(store: EventStore, after: UInt64, through last: UInt64) throws {
        defer { decoded.finish() }
        guard after < last else { return }
        var chunk: [QSMEvent] = []
        chunk.reserveCapacity(chunkSize)
        var failed: (any Error)?
        try store.forEach(from: after + 1) { stored in
            guard stored.position <= last else { return false }
            do { chunk.append(try QSMEvent(stored)) } catch {
                failed = error
                return false
            }
            guard chunk.count == chunkSize else { return true }
            defer { chunk.removeAll(keepingCapacity: true) }
            return decoded.put(chunk)
        }
        if let failed { throw failed }
        if !chunk.isEmpty { _ = decoded.put(chunk) }
    }

    private func foldTables() throws {
        defer { folded.finish() }
        while let events = decoded.take() {
            var modes = [String?](repeating: nil, count: events.count)
            for (index, event) in events.enumerated() {
                for row in try MessageTables.rows(for: event, tables: tables) { tables.apply(row) }
                if case .messageDecrypted = event.body { modes[index] = try MessageTables.decryptedMode(of: event, in: tables) }
            }
            guard folded.put((events, modes)) else { return }
        }
    }

    private func foldState() {
        while let (events, modes) = folded.take() {
            for (event, mode) in zip(events, modes) { state.evolve(event, decryptedMode: mode) }
        }
    }
}
