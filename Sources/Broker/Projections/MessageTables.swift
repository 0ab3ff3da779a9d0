public import EventLog
public import Foundation
public import QSMEvents

/// The inbox, the message index and history: projections served from LMDB tables the log's writer keeps
/// in the transaction of the events they come from, not from memory (they grow with every message and
/// every event, and no decider needs them whole).
///
/// Keys are built so LMDB's byte order is the order a page wants: a user's rows are `user 0x00 be64
/// position`, contiguous and in log order (usernames never hold a 0x00 byte).
public enum MessageTables {
    /// message id's last 6 bytes then its first 10 (``indexKey(of:)``) -> position of its MessageSent
    /// (be64), mode (1 byte), recipient.
    static let messages = "messages"
    /// recipient, position -> message id (16), sent at (be64 µs), size (be64), mode (1 byte), sender.
    static let inbox = "inbox"
    /// recipient, position -> when the recipient first read it (be64 µs); the first read wins.
    static let reads = "reads"
    /// user, position -> nothing: the events that concern each user, whose lines are written when asked;
    /// but not a message's recipient: the inbox row at the same key stands for that line.
    static let history = "history"

    /// The layout of the rows, as the log records it: tables of another layout are written again from
    /// the log at start. 2: a message's recipient has no history row (its inbox row serves the line);
    /// 3: the message index keyed by ``indexKey(of:)``.
    public static let layout: UInt64 = 3

    /// The message index's table, whose rows count the messages.
    public static let messageIndex = messages
    /// Every table, as the broker opens the log with them.
    public static let names = [messages, inbox, reads, history]
    /// The tables each projection name covers, for digests and rebuilds.
    public static let projections: [(name: String, tables: [String])] = [
        ("inbox", [messages, inbox, reads]), ("history", [history]),
    ]

    /// Where a message is, from the message index.
    public struct Location: Sendable, Equatable {
        public let position: UInt64
        public let mode: QSMMessageMode
        public let recipient: String
    }

    // MARK: Folding

    /// The rows `event` writes. A MessageDecrypted reads where its message is through `tables`, which
    /// holds every earlier event's rows.
    public static func rows(for event: QSMEvent, tables: some TableReading) throws -> [TableRow] {
        var rows: [TableRow] = []
        // A name with a 0x00 byte (only ever typed at a failed login: no such user can exist) would sort
        // inside another user's rows ("bob\0x" under "bob"), so it gets no history row.
        // A message's recipient gets an inbox row at the same key instead: one row a Send fewer, in a
        // B-tree leaf of the recipient's that the commit writes anyway (tools/bench broker).
        let recipient: String? = if case .messageSent(let sent) = event.body { sent.recipient } else { nil }
        for user in HistoryLines.users(concernedBy: event) where !user.utf8.contains(0) && user != recipient {
            rows.append(TableRow(table: history, key: userKey(user, event.position), value: []))
        }
        switch event.body {
        case .messageSent(let sent):
            let mode = UInt8(truncatingIfNeeded: sent.mode.rawValue)
            var location = be64(event.position)
            location.append(mode)
            location += Array(sent.recipient.utf8)
            rows.append(TableRow(table: messages, key: indexKey(of: sent.messageID), value: location))
            var entry = Array(sent.messageID)
            entry += be64(UInt64(bitPattern: event.recordedAtUs))
            entry += be64(sent.size)
            entry.append(mode)
            entry += Array(sent.sender.utf8)
            rows.append(TableRow(table: inbox, key: userKey(sent.recipient, event.position), value: entry))
        case .messageDecrypted(let decrypted):
            // Only the recipient's read marks the message read; the sender reading their own copy does not.
            guard let location = try location(of: decrypted.messageID, in: tables), decrypted.reader == location.recipient
            else { break }
            rows.append(TableRow(
                table: reads, key: userKey(location.recipient, location.position),
                value: be64(UInt64(bitPattern: event.recordedAtUs)), keepExisting: true))
        default:
            break
        }
        return rows
    }

    /// The mode of the message a MessageDecrypted event read, for the dashboard's counts (nil for any
    /// other event, or a message the index does not hold).
    public static func decryptedMode(of event: QSMEvent, in tables: some TableReading) throws -> String? {
        guard case .messageDecrypted(let decrypted) = event.body else { return nil }
        return try location(of: decrypted.messageID, in: tables)?.mode.name
    }

    // MARK: Reading

    /// Where the message `id` (16 bytes) is, or nil.
    public static func location(of id: Data, in tables: some TableReading) throws -> Location? {
        guard id.count == 16, let value = try tables.value(in: messages, key: indexKey(of: id)), value.count >= 9 else { return nil }
        return Location(
            position: decode64(value[0..<8]), mode: QSMMessageMode(rawValue: Int(value[8])) ?? .unspecified,
            recipient: String(decoding: value[9...], as: UTF8.self))
    }

    /// The message `id` (hex) as its recipient's inbox lists it, or nil.
    public static func message(_ id: String, in tables: some TableReading) throws -> InboxEntry? {
        guard let bytes = Data(hex: id), let location = try location(of: bytes, in: tables) else { return nil }
        let key = userKey(location.recipient, location.position)
        guard let value = try tables.value(in: inbox, key: key) else { return nil }
        return try entry(key: key, value: value, recipient: location.recipient, tables: tables)
    }

    /// A page of `user`'s messages, newest first: at most `limit` of those sent before log position
    /// `before` (all when nil), how many match in all, and how many older ones the page left out.
    public static func inboxPage(
        of user: String, unreadOnly: Bool, limit: Int, before: UInt64?, in tables: some TableReading
    ) throws -> (entries: [InboxEntry], total: Int, more: Int) {
        var page: [InboxEntry] = []
        var total = 0
        var more = 0
        try tables.scanBackward(in: inbox, prefix: userPrefix(user), below: nil) { key, value in
            let position = decode64(key[(key.count - 8)...])
            // The read mark is looked up only where it matters: the filter, and the page's own entries.
            if unreadOnly, try tables.value(in: reads, key: key) != nil { return true }
            total += 1
            guard before.map({ position < $0 }) ?? true else { return true }
            if page.count < limit {
                if let entry = try entry(key: key, value: value, recipient: user, tables: tables) { page.append(entry) }
            } else {
                more += 1
            }
            return true
        }
        return (page, total, more)
    }

    /// A page of `user`'s history, newest first: at most `limit` positions below `before` (all when nil),
    /// the user's number of lines, and how many older ones the page left out. The lines are the user's
    /// history rows and the messages they received (their inbox rows), merged in log order.
    public static func historyPage(
        of user: String, limit: Int, before: UInt64?, in tables: some TableReading
    ) throws -> (positions: [UInt64], total: Int, more: Int) {
        var all: [UInt64] = []
        for table in [history, inbox] {
            try tables.scanBackward(in: table, prefix: userPrefix(user), below: nil) { key, _ in
                all.append(decode64(key[(key.count - 8)...]))
                return true
            }
        }
        all.sort(by: >)
        var positions: [UInt64] = []
        var more = 0
        for position in all where before.map({ position < $0 }) ?? true {
            if positions.count < limit { positions.append(position) } else { more += 1 }
        }
        return (positions, all.count, more)
    }

    private static func entry(key: [UInt8], value: [UInt8], recipient: String, tables: some TableReading) throws -> InboxEntry? {
        guard value.count >= 33 else { return nil }
        let readAt = try tables.value(in: reads, key: key).map { Int64(bitPattern: decode64($0[...])) }
        return InboxEntry(
            messageID: Data(value[0..<16]).hex, from: String(decoding: value[33...], as: UTF8.self), to: recipient,
            sentAt: Int64(bitPattern: decode64(value[16..<24])),
            mode: (QSMMessageMode(rawValue: Int(value[32])) ?? .unspecified).name, size: decode64(value[24..<32]),
            position: decode64(key[(key.count - 8)...]), readAt: readAt)
    }

    // MARK: Keys

    /// The message index's key for message `id` (16 bytes): its last 6 bytes first. Ids end with the
    /// time they were made (``BrokerCrypto``), so keys of messages sent close in time sort together;
    /// an id made before that (all random) is as good a key turned round.
    static func indexKey(of id: Data) -> [UInt8] {
        guard id.count == 16 else { return Array(id) }
        let bytes = Array(id)
        return Array(bytes[10...] + bytes[..<10])
    }

    static func userPrefix(_ user: String) -> [UInt8] {
        Array(user.utf8) + [0]
    }

    static func userKey(_ user: String, _ position: UInt64) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(user.utf8.count + 9)
        key += user.utf8
        key.append(0)
        withUnsafeBytes(of: position.bigEndian) { key += $0 }
        return key
    }

    static func be64(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func decode64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// A message as an inbox lists it (never its body: that stays sealed in the log).
public struct InboxEntry: Codable, Sendable, Equatable {
    /// 32 lowercase hexadecimal digits.
    public var messageID: String
    public var from: String
    public var to: String
    /// When it was sent, in microseconds since the epoch.
    public var sentAt: Int64
    /// otp, aes or pqc.
    public var mode: String
    /// The plaintext's size in bytes.
    public var size: UInt64
    /// The position of the MessageSent event holding the ciphertext.
    public var position: UInt64
    /// When the recipient first read it, or nil while unread.
    public var readAt: Int64?
    /// Whether the recipient has read it.
    public var read: Bool { readAt != nil }
}
