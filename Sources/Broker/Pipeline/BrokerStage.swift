import EventLog
import Foundation
import QSMEvents
import Synchronization
import SwiftProtobuf

/// The broker's part of the log's one writer (EventLog's `LogWriter`): for every queued command it takes
/// the context (time, caller, correlation id), runs the command's pure decider against the state its
/// predecessors produced, seals what the decision reserved, appends the events to the batch (which gives
/// them positions and times and encodes them), and folds them, with the alerts the intrusion detection
/// derives, into the state. Signed checkpoints and snapshots join batches here too.
///
/// `decide` and `rollBack` run on the writer's deciding thread; `answer` on its committing thread.
final class BrokerStage: WriterStage, @unchecked Sendable {
    typealias Command = any BrokerJob

    /// The state as of the last decided command; queries before a command's work (a session's user, a
    /// pool's size) read it under the lock.
    let state: Mutex<BrokerState>
    /// Heads after each commit, for watchers.
    let changes = ChangeFeed()
    private let store: EventStore
    private let configuration: BrokerConfiguration
    private let crypto: BrokerCrypto
    private let checkpointer: Checkpointer
    // Deciding thread only.
    private var random = BufferedSystemRandom()
    private var lastSnapshot: UInt64
    private var refusals = RefusalTally()

    /// Checkpoints decided into batches not yet durable: copied to the witness once they are.
    private let decidedCheckpoints = Mutex<[(eventPosition: UInt64, at: Int64, checkpoint: QSMCheckpointSigned)]>([])

    init(store: EventStore, state: BrokerState, configuration: BrokerConfiguration, crypto: BrokerCrypto,
         checkpointer: Checkpointer) {
        self.store = store
        self.state = Mutex(state)
        self.configuration = configuration
        self.crypto = crypto
        self.checkpointer = checkpointer
        lastSnapshot = state.position
    }

    func decide(_ commands: [any BrokerJob], into batch: inout RecordBatch, closing: Bool) {
        let now = max(configuration.clock(), batch.head.lastRecordedAtMicros)
        // Every commit records that the message tables reflect its head (StateLoader checks it at start).
        batch.keepTables()
        // The lock is held per step, not per round: callers read the state (a session's user, a pool's
        // size) before queueing their next command, and must not wait for a whole batch to be decided.
        if batch.isEmpty, checkpointer.isDue(head: batch.base.position, now: now, force: closing) {
            state.withLock { appendCheckpoint(of: batch.base, now: now, into: &batch, state: &$0) }
        }
        for job in commands {
            var decision = Decision(now: now, caller: job.caller, correlationID: randomID())
            state.withLock { job.decide($0, &decision) }
            if let replacement = decision.tableReplacement { batch.replaceTables(replacement.names, with: replacement.image) }
            refusals.add(source: job.caller.source.text, kinds: decision.unrecordedRefusals, at: now)
            if let failure = seal(&decision) {
                job.fail(failure)
                continue
            }
            let events: [NewEvent]
            do {
                events = try decision.events.map {
                    try NewEvent($0.body, actor: $0.actor, correlationID: decision.correlationID, peer: job.caller.peer)
                }
                // Checked before any is folded (RecordBatch.append checks again, too late to refuse the
                // command whole): a command whose events cannot all be appended must leave none behind.
                for event in events { try event.validate() }
            } catch {
                job.fail(.unavailable("an event could not be encoded: \(error)"))
                continue
            }
            state.withLock { state in
                for (index, event) in events.enumerated() {
                    append(event, body: decision.events[index].body, at: now, into: &batch, state: &state)
                }
            }
        }
        if !refusals.isEmpty {
            appendRefusalAggregates(now: now, into: &batch, closing: closing)
        }
        // Encoded here, under the lock, not in the background: a copy of the state for an encoder on
        // another thread made the writer copy every collection it changed meanwhile, and left qsmd at
        // 2 GiB RssAnon after 1,000,000 events instead of 343 MiB (docs/performance.md).
        let position = state.withLock { $0.position }
        if closing || position - lastSnapshot >= configuration.snapshotEvery {
            state.withLock { attachSnapshot(of: $0, to: &batch) }
            // Encoding built a tree several times the state's size: give the pages back.
            MemoryTrim.trim()
        }
    }

    func answer(_ commands: [any BrokerJob], outcome: Result<Committed, EventLogError>) {
        switch outcome {
        case .success(let commit):
            let head = commit.head
            let committed = decidedCheckpoints.withLock { pending in
                let done = pending.filter { $0.eventPosition <= head.position }
                pending.removeAll { $0.eventPosition <= head.position }
                return done
            }
            for entry in committed {
                checkpointer.committed(entry.checkpoint, eventPosition: entry.eventPosition, at: entry.at)
            }
            for job in commands { job.finish(failure: nil) }
            if commit.events > 0 {
                PipelineMetrics.shared.committed(commit, commands: commands.count, state: state)
            }
            // Only a head that moved: the writer's idle ticks commit nothing, and watchers wake to news.
            if commit.events > 0 { changes.publish(head.position) }
        case .failure(let error):
            for job in commands { job.finish(failure: .storage(error)) }
        }
    }

    func rollBack(to head: LogHead) {
        decidedCheckpoints.withLock { $0.removeAll() }
        do {
            let (fresh, _) = try StateLoader.load(store: store, rules: configuration.rules, key: crypto.masterKey)
            state.withLock { $0 = fresh }
            lastSnapshot = min(lastSnapshot, fresh.position)
            try checkpointer.reload(from: store)
        } catch {
            // The log could not be read back: the state keeps what it had, and the next commit's check of
            // its batch against the durable head refuses anything decided on it.
            checkpointer.logFailure(error)
        }
    }

    // MARK: Steps

    /// Seals the messages the decision reserved key material for; the refusal when one cannot be sealed.
    private func seal(_ decision: inout Decision) -> BrokerError? {
        for request in decision.seals {
            guard case .messageSent(var sent) = decision.events[request.eventIndex].body else {
                return .unavailable("a sealed message's event is missing")
            }
            do {
                try crypto.seal(request, into: &sent)
            } catch {
                return error
            }
            decision.fill(request.eventIndex, with: sent)
        }
        return nil
    }

    /// Appends `event` to the batch, folds it into the state, then does the same for the alerts (and
    /// lockouts) the intrusion detection derived from it.
    private func append(
        _ event: NewEvent, body: QSMEvent.OneOf_Body, at now: Int64, into batch: inout RecordBatch,
        state: inout BrokerState
    ) {
        let placed: (position: UInt64, recordedAtMicros: Int64)
        do {
            placed = try batch.append(event, at: now)
        } catch {
            // Validated above; a batch that cannot take it is failed whole, and the state rolled back.
            batch.poison("\(error)")
            return
        }
        let folded = QSMEvent(event, body: body, position: placed.position, recordedAt: placed.recordedAtMicros)
        do {
            let (mode, rows) = try tableRows(for: folded)
            for row in rows { batch.write(row) }
            state.evolve(folded, decryptedMode: mode)
        } catch {
            batch.poison("the message tables could not be read: \(error)")
            return
        }
        for derived in state.ids.takePending() {
            for derivedBody in CommandEvents.events(for: derived) {
                guard let new = try? NewEvent(derivedBody, actor: derived.subject, correlationID: event.correlationID)
                else {
                    batch.poison("a derived alert could not be encoded")
                    return
                }
                append(new, body: derivedBody, at: now, into: &batch, state: &state)
            }
        }
    }

    /// The rows `event` writes into the message tables, and the mode of the message it read, if it is
    /// a MessageDecrypted. Only those read the tables: their message was sent, and answered, in a batch
    /// already durable, since nobody knows a message's id before its sender's answer.
    private func tableRows(for event: QSMEvent) throws -> (mode: String?, rows: [TableRow]) {
        guard case .messageDecrypted = event.body else {
            return (nil, try MessageTables.rows(for: event, tables: TableImage()))
        }
        return try store.readTables { tables in
            (try MessageTables.decryptedMode(of: event, in: tables), try MessageTables.rows(for: event, tables: tables))
        }
    }

    private func appendCheckpoint(of head: LogHead, now: Int64, into batch: inout RecordBatch, state: inout BrokerState) {
        do {
            let body = try checkpointer.checkpoint(of: head)
            let event = try NewEvent(body, correlationID: randomID())
            guard case .checkpointSigned(let signed) = body else { return }
            let position = batch.nextPosition
            append(event, body: body, at: now, into: &batch, state: &state)
            checkpointer.decided(signed, eventPosition: position, at: batch.head.lastRecordedAtMicros)
            decidedCheckpoints.withLock { $0.append((position, batch.head.lastRecordedAtMicros, signed)) }
        } catch {
            // Commands go on; the next batch tries again.
            checkpointer.logFailure(error)
        }
    }

    /// Writes the counts of refusals left out of the log whose window has ended (all of them when closing).
    private func appendRefusalAggregates(now: Int64, into batch: inout RecordBatch, closing: Bool) {
        let due = refusals.takeDue(now: now, window: configuration.rules.refusalBurst.windowMicros, all: closing)
        for aggregated in due {
            let body = QSMEvent.OneOf_Body.refusalsAggregated(aggregated)
            guard let event = try? NewEvent(body, correlationID: randomID()) else { continue }
            state.withLock { append(event, body: body, at: now, into: &batch, state: &$0) }
        }
    }

    private func attachSnapshot(of state: BrokerState, to batch: inout RecordBatch) {
        guard state.position > 0, let data = try? state.snapshotData() else { return }
        let sealed = SnapshotSeal.seal(data, logID: store.meta.logID, position: state.position, key: crypto.masterKey)
        batch.attachSnapshot(Snapshot(position: state.position, state: sealed), named: StateLoader.snapshotName)
        lastSnapshot = state.position
    }

    /// 128 random bits from the writer's buffered generator.
    private func randomID() -> Data {
        var words = (random.next(), random.next())
        return withUnsafeBytes(of: &words) { Data($0) }
    }
}

extension QSMEvent {
    /// The event as folded: `event`'s header fields at the position and time the batch gave it.
    init(_ event: NewEvent, body: QSMEvent.OneOf_Body, position: UInt64, recordedAt: Int64) {
        self.init()
        self.position = position
        recordedAtUs = recordedAt
        type = event.type
        schemaVersion = event.schemaVersion
        actor = event.actor
        correlationID = event.correlationID
        if let peer = event.peer {
            self.peer = LogPeer.with {
                $0.uid = peer.uid
                $0.gid = peer.gid
                $0.pid = peer.pid
            }
        }
        self.body = body
    }
}

/// The events that record what the intrusion detection derived.
enum CommandEvents {
    /// The alert, and the lockout it imposes if any.
    static func events(for derived: IDSProjection.Derived) -> [QSMEvent.OneOf_Body] {
        var result: [QSMEvent.OneOf_Body] = [.alertRaised(QSMAlertRaised.with {
            $0.alertID = derived.id
            $0.rule = derived.rule
            $0.severity = QSMSeverity(rawValue: derived.severity) ?? .medium
            $0.subject = derived.subject
            $0.summary = derived.summary
            $0.evidencePositions = derived.evidence
            $0.triggerPosition = derived.trigger
        })]
        if let until = derived.lockUntil {
            result.append(.accountLocked(QSMAccountLocked.with {
                $0.username = derived.subject
                $0.untilUs = until
                $0.rule = derived.rule
                $0.triggerPosition = derived.trigger
                $0.level = derived.level
                $0.source = derived.lockSource
            }))
        }
        return result
    }
}
