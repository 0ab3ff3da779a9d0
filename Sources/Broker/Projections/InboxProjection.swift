import Foundation
public import QSMEvents
import EventLog
import SwiftProtobuf
import Synchronization

/// Each user's received messages, newest last, and where each message's ciphertext is in the log.
public struct InboxProjection: Projection {
    public static let name = "inbox"

    /// A message as listed in an inbox (never its body: that stays sealed in the log).
    public struct Entry: Codable, Sendable, Equatable {
        public var messageID: String
        public var from: String
        public var to: String
        public var sentAt: Int64
        public var mode: String
        public var size: UInt64
        /// The position of the MessageSent event holding the ciphertext.
        public var position: UInt64
        public var readAt: Int64?
        public var read: Bool { readAt != nil }
    }

    /// Entries by recipient, in the order sent.
    public private(set) var inboxes: [String: [Entry]] = [:]
    /// Where each message is: recipient and index in that inbox.
    public private(set) var locations: [String: Location] = [:]

    /// Where a message is in `inboxes`.
    public struct Location: Codable, Sendable, Equatable {
        public var recipient: String
        public var index: Int
    }

    public init() {}

    /// The message with id `id` (hex), if any.
    public func message(_ id: String) -> Entry? {
        guard let location = locations[id] else { return nil }
        return inboxes[location.recipient]?[location.index]
    }

    /// `user`'s messages, newest first, at most `limit`.
    public func inbox(of user: String, unreadOnly: Bool, limit: Int) -> [Entry] {
        guard let entries = inboxes[user] else { return [] }
        var result: [Entry] = []
        for entry in entries.reversed() where !unreadOnly || !entry.read {
            result.append(entry)
            if result.count >= limit { break }
        }
        return result
    }

    /// A page of `user`'s messages, newest first: at most `limit` of those sent before log position
    /// `before` (all when nil), how many match in all, and how many older ones the page left out.
    public func page(of user: String, unreadOnly: Bool, limit: Int, before: UInt64?) -> (entries: [Entry], total: Int, more: Int) {
        guard let entries = inboxes[user] else { return ([], 0, 0) }
        // Entries are in log order, so the cursor's place is a binary search away.
        var low = 0
        var high = entries.count
        if let before {
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].position < before { low = middle + 1 } else { high = middle }
            }
        }
        let end = before == nil ? entries.count : low
        var page: [Entry] = []
        var more = 0
        var total = 0
        for (index, entry) in entries.enumerated().reversed() where !unreadOnly || !entry.read {
            total += 1
            guard index < end else { continue }
            if page.count < limit { page.append(entry) } else { more += 1 }
        }
        return (page, total, more)
    }

    public mutating func evolve(_ event: QSMEvent) {
        switch event.body {
        case .messageSent(let sent):
            let id = sent.messageID.hex
            // Appended in place: copying a recipient's whole inbox per message would make folding quadratic.
            locations[id] = Location(recipient: sent.recipient, index: inboxes[sent.recipient]?.count ?? 0)
            inboxes[sent.recipient, default: []].append(Entry(
                messageID: id, from: sent.sender, to: sent.recipient, sentAt: event.recordedAtUs,
                mode: sent.mode.name, size: sent.size, position: event.position, readAt: nil))
        case .messageDecrypted(let decrypted):
            // Only the recipient's read marks the message read; the sender reading their own copy does not.
            guard let location = locations[decrypted.messageID.hex], decrypted.reader == location.recipient,
                  inboxes[location.recipient]?[location.index].readAt == nil
            else { return }
            inboxes[location.recipient]?[location.index].readAt = event.recordedAtUs
        default:
            break
        }
    }
}

extension QSMMessageMode {
    /// The mode's name as users write it: otp, aes or pqc.
    public var name: String {
        switch self {
        case .otp: "otp"
        case .aes: "aes"
        case .pqc: "pqc"
        default: "unspecified"
        }
    }

    /// The mode named `name` (otp, aes or pqc).
    public init?(name: String) {
        switch name {
        case "otp": self = .otp
        case "aes": self = .aes
        case "pqc": self = .pqc
        default: return nil
        }
    }
}
