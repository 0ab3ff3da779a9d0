import Foundation
import EventLog
import QSMCrypto
import QSMEvents
import SwiftProtobuf
import Synchronization

/// A line of a user's history.
public typealias HistoryEntry = HistoryLines.Entry

/// The dashboard: counters since the log began, sessions live now, and per-minute series.
public struct DashboardView: Sendable, Equatable {
    public let counters: DashboardProjection.Counters
    public let activeSessions: Int
    /// The last hour (or `minutes`) of per-minute counts, oldest first.
    public let series: [MinutePoint]
    /// The latest key exchanges (completed and aborted), oldest first, for the QBER chart.
    public let exchanges: [DashboardProjection.Exchange]

    /// One minute of the series.
    public struct MinutePoint: Sendable, Equatable {
        /// Minutes since the epoch.
        public let minute: Int64
        public let counts: DashboardProjection.Minute
    }
}

extension Broker {
    /// Decrypts the message `messageID` (hex) for its recipient or its sender and records that it was
    /// read. Anyone else is refused, and the refusal is recorded for the intrusion detection.
    public func decrypt(token: String, messageID: String, caller: Caller) async throws(BrokerError) -> DecryptedMessage {
        guard Data(hex: messageID)?.count == 16 else {
            throw .invalidParameter(name: "messageId", reason: "must be 32 hexadecimal digits")
        }
        let presented = PresentedToken(token)
        let id = messageID.lowercased()
        // The message index is on disk and a message never moves: read it before deciding. Decrypt before
        // deciding too, but only for the live session of the recipient or the sender.
        let message: InboxEntry?
        do { message = try store.readTables { try MessageTables.message(id, in: $0) } } catch {
            throw .unavailable("the message index could not be read: \(error)")
        }
        var opened: Result<Data, BrokerError>?
        let context = read { state -> (InboxEntry, KeyPoolsProjection.PairPool?, String)? in
            guard let message, let user = state.peekSession(presented, now: configuration.clock()),
                  message.to == user || message.from == user
            else { return nil }
            return (message, state.keyPools.pool(message.from, message.to), user)
        }
        if let (entry, pool, user) = context {
            let asSender = entry.from == user
            opened = await openMessage(entry, pool: pool, token: token, asSender: asSender)
        }
        return try await submit(
            DecryptCommand(token: presented, messageID: id, message: message, opened: opened), caller: caller).get()
    }

    /// Opens `entry` for its recipient or, `asSender`, for its sender: otp and aes with the pair's key
    /// material (the sender's as much as the recipient's), pqc with the reader's private key and the copy
    /// sealed to them.
    private func openMessage(_ entry: InboxEntry, pool: KeyPoolsProjection.PairPool?, token: String, asSender: Bool) async
        -> Result<Data, BrokerError>
    {
        do {
            guard let stored = try store.event(at: entry.position), case .messageSent(let sent)? = try QSMEvent(stored).body
            else { return .failure(.unknownMessage(entry.messageID)) }
            let context = MessageAAD(messageID: sent.messageID, sender: sent.sender, recipient: sent.recipient)
            let ranges = sent.poolRanges.map { PoolRange(start: $0.start, length: $0.length) }
            switch sent.mode {
            case .otp:
                guard let pool else { return .failure(.unknownMessage(entry.messageID)) }
                return .success(try crypto.openOTP(
                    OTPSealed(ciphertext: sent.ciphertext, tag: sent.tag), ranges: ranges, pool: pool.pool,
                    context: context))
            case .aes:
                guard let pool else { return .failure(.unknownMessage(entry.messageID)) }
                return .success(try crypto.openAES(
                    AESSealed(counter: sent.blockCounter, ciphertext: sent.ciphertext), ranges: ranges, pool: pool.pool,
                    context: context))
            case .pqc:
                let sealed = asSender
                    ? PQCSealed(encapsulatedKey: sent.senderEncapsulatedKey, ciphertext: sent.senderCiphertext)
                    : PQCSealed(encapsulatedKey: sent.encapsulatedKey, ciphertext: sent.ciphertext)
                if asSender && sealed.ciphertext.isEmpty { return .failure(.noSenderCopy(messageID: entry.messageID)) }
                guard let key = sessionPrivateKey(token: token) else { return .failure(.privateKeyUnavailable) }
                return .success(try await crypto.openPQC(
                    sealed, privateKey: key, context: context, copy: asSender ? .sender : .recipient))
            default:
                return .failure(.unknownMessage(entry.messageID))
            }
        } catch BrokerError.integrityFailure {
            return .failure(.integrityFailure(messageID: entry.messageID))
        } catch let error as BrokerError {
            return .failure(error)
        } catch let error as EventLogError {
            return .failure(.storage(error))
        } catch {
            return .failure(.unavailable("\(error)"))
        }
    }

    /// The session user's messages, newest first.
    public func inbox(token: String, unreadOnly: Bool = false, limit: Int? = nil, caller: Caller)
        async throws(BrokerError) -> [InboxEntry]
    {
        try await inboxPage(token: token, unreadOnly: unreadOnly, limit: limit, caller: caller).items
    }

    /// A page of the session user's messages, newest first: at most `limit` (default 100) sent before
    /// `cursor` (a previous page's), with the total and the cursor of the next page.
    public func inboxPage(token: String, unreadOnly: Bool = false, limit: Int? = nil, cursor: String? = nil, caller: Caller)
        async throws(BrokerError) -> Page<InboxEntry>
    {
        let limit = try Validation.limit(limit, default: Page<InboxEntry>.defaultLimit)
        let before = try Page<InboxEntry>.position(cursor)
        let user = try await submit(InboxCommand(token: PresentedToken(token)), caller: caller).get()
        // Read from the tables once the command is durable: they hold at least what the caller was answered.
        do {
            let page = try store.readTables {
                try MessageTables.inboxPage(of: user, unreadOnly: unreadOnly, limit: limit, before: before, in: $0)
            }
            return Page(
                items: page.entries, total: page.total, more: page.more,
                cursor: page.more > 0 ? page.entries.last.map { String($0.position) } : nil)
        } catch let error as EventLogError {
            throw .storage(error)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// What the session user did and what was done to them, newest first.
    public func history(token: String, limit: Int? = nil, caller: Caller) async throws(BrokerError) -> [HistoryEntry] {
        try await historyPage(token: token, limit: limit, caller: caller).items
    }

    /// A page of the session user's history, newest first: at most `limit` (default 100) lines older than
    /// `cursor` (a previous page's), with the total and the cursor of the next page.
    public func historyPage(token: String, limit: Int? = nil, cursor: String? = nil, caller: Caller)
        async throws(BrokerError) -> Page<HistoryEntry>
    {
        let limit = try Validation.limit(limit, default: Page<HistoryEntry>.defaultLimit)
        let presented = PresentedToken(token)
        let before = try Page<HistoryEntry>.position(cursor)
        let user = try await submit(HistoryCommand(token: presented), caller: caller).get()
        // The lines are written from the events themselves, which are durable by now.
        do {
            let page = try store.readTables { try MessageTables.historyPage(of: user, limit: limit, before: before, in: $0) }
            let entries = try page.positions.compactMap { position -> HistoryEntry? in
                guard let stored = try store.event(at: position) else { return nil }
                return HistoryLines.entry(for: try QSMEvent(stored), user: user)
            }
            return Page(items: entries, total: page.total, more: page.more, cursor: page.more > 0 ? page.positions.last.map { String($0) } : nil)
        } catch let error as EventLogError {
            throw .storage(error)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// The dashboard, for any logged-in user: system-wide counts, nobody's data.
    public func dashboard(token: String, minutes: Int64 = 60, caller: Caller) async throws(BrokerError) -> DashboardView {
        return try await submit(DashboardCommand(token: PresentedToken(token), minutes: minutes), caller: caller).get()
    }
}

extension BrokerState {
    /// The dashboard as of `now`.
    public func dashboardView(minutes: Int64, now: Int64) -> DashboardView {
        DashboardView(
            counters: dashboard.counters, activeSessions: sessions.activeCount(at: now),
            series: dashboard.series(lastMinutes: minutes).map { DashboardView.MinutePoint(minute: $0.minute, counts: $0.counts) },
            exchanges: dashboard.recentExchanges)
    }
}

/// Decrypt: only the live session of the recipient or the sender reads a message; anyone else is refused
/// and recorded. The message was opened before the command was queued, for the session that was then live.
struct DecryptCommand: BrokerCommand {
    let token: PresentedToken
    /// Lowercase hex.
    let messageID: String
    /// The message, as the message index held it when the command was made (nil: no such message).
    let message: InboxEntry?
    let opened: Result<Data, BrokerError>?

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<DecryptedMessage, BrokerError> {
        let user: String
        switch state.authenticate(token, method: "Decrypt", decision: &decision) {
        case .failure(let error): return .failure(error)
        case .success(let name): user = name
        }
        guard let entry = message else { return .failure(.unknownMessage(messageID)) }
        // The sender reads their own message as messengers let them: never a refusal, never an alert.
        guard entry.to == user || entry.from == user else {
            decision.refuse(.accessDenied(QSMAccessDenied.with {
                $0.username = user
                $0.method = "Decrypt"
                $0.resource = "message"
                $0.resourceID = messageID
                $0.owner = entry.to
                $0.reason = .notOwner
            }), actor: user, state: state)
            return .failure(.notOwner(resource: "message \(messageID)"))
        }
        guard let opened else { return .failure(.unavailable("the session changed while decrypting: try again")) }
        if case .failure(.integrityFailure) = opened {
            // Altered after it was sent (ciphertext, key material or context): recorded, and the
            // intrusion detection raises a high alert naming the message.
            decision.emit(.decryptionFailed(QSMDecryptionFailed.with {
                $0.messageID = Data(hex: messageID) ?? Data()
                $0.reader = user
                $0.sender = entry.from
                $0.mode = entry.mode
            }), actor: user)
        }
        return opened.map { body in
            // reader == sender marks the sender's own read: the recipient's inbox keeps it unread.
            decision.emit(.messageDecrypted(QSMMessageDecrypted.with {
                $0.messageID = Data(hex: messageID) ?? Data()
                $0.reader = user
                $0.sender = entry.from
            }), actor: user)
            return DecryptedMessage(body: body, from: entry.from, to: entry.to, sentAt: entry.sentAt, mode: entry.mode)
        }
    }
}

/// Inbox: the session user, whose page the broker then reads from the inbox table.
struct InboxCommand: BrokerCommand {
    let token: PresentedToken

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<String, BrokerError> {
        state.authenticate(token, method: "Inbox", decision: &decision)
    }
}

/// History: the session user, whose page the broker then reads from the history table.
struct HistoryCommand: BrokerCommand {
    let token: PresentedToken

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<String, BrokerError> {
        state.authenticate(token, method: "History", decision: &decision)
    }
}

/// Dashboard: system-wide counts for any live session.
struct DashboardCommand: BrokerCommand {
    let token: PresentedToken
    let minutes: Int64

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<DashboardView, BrokerError> {
        state.authenticate(token, method: "Dashboard", decision: &decision).map { _ in
            state.dashboardView(minutes: minutes, now: decision.now)
        }
    }
}
