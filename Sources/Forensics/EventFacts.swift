public import Foundation
public import QSMEvents

/// What an event says about users and messages, read from its body: the facts the forensic queries
/// filter on. Pure functions of one event.
public enum EventFacts {
    /// How a user takes part in an event.
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// The event's actor (the header field the log indexes).
        case actor
        /// Named as the account concerned: registered, logged in, failed, locked, refused, ...
        case account
        case initiator
        /// The other party of a key exchange.
        case keyPeer
        case sender
        case recipient
        case reader
        /// The owner of what someone was refused access to.
        case owner
        /// The subject of an alert.
        case subject
    }

    /// Every (role, user) an event names, the actor first; empty names are left out.
    public static func parties(of event: QSMEvent) -> [(role: Role, user: String)] {
        var result: [(role: Role, user: String)] = []
        func add(_ role: Role, _ user: String) {
            if !user.isEmpty { result.append((role, user)) }
        }
        add(.actor, event.actor)
        switch event.body {
        case .userRegistered(let e)?: add(.account, e.username)
        case .passwordChanged(let e)?: add(.account, e.username)
        case .loginSucceeded(let e)?: add(.account, e.username)
        case .loginFailed(let e)?: add(.account, e.username)
        case .loggedOut(let e)?: add(.account, e.username)
        case .sessionExpired(let e)?: add(.account, e.username)
        case .keyExchangeCompleted(let e)?:
            add(.initiator, e.initiator)
            add(.keyPeer, e.peer)
        case .keyExchangeAborted(let e)?:
            add(.initiator, e.initiator)
            add(.keyPeer, e.peer)
        case .messageSent(let e)?:
            add(.sender, e.sender)
            add(.recipient, e.recipient)
        case .messageDecrypted(let e)?:
            add(.reader, e.reader)
            add(.sender, e.sender)
        case .accessDenied(let e)?:
            add(.account, e.username)
            add(.owner, e.owner)
        case .alertRaised(let e)?: add(.subject, e.subject)
        case .accountLocked(let e)?: add(.account, e.username)
        case .accountUnlocked(let e)?: add(.account, e.username)
        case .decryptionFailed(let e)?:
            add(.reader, e.reader)
            add(.sender, e.sender)
        case .secondFactorStarted(let e)?: add(.account, e.username)
        case .secondFactorEnabled(let e)?: add(.account, e.username)
        case .secondFactorDisabled(let e)?: add(.account, e.username)
        case .recoveryCodesGenerated(let e)?: add(.account, e.username)
        case .recoveryCodeUsed(let e)?: add(.account, e.username)
        case .checkpointSigned?, .refusalsAggregated?, .keyMaterialRetired?, .signingKeyReplaced?, nil: break
        }
        return result
    }

    /// The roles in which `event` concerns `user`, or empty if it does not.
    public static func roles(of user: String, in event: QSMEvent) -> [Role] {
        var roles: [Role] = []
        for party in parties(of: event) where party.user == user && !roles.contains(party.role) {
            roles.append(party.role)
        }
        return roles
    }

    /// The message an event is about: the id of a sent or decrypted message, or of a message someone
    /// was refused (access_denied on resource "message", whose id is stored in hex).
    public static func messageID(of event: QSMEvent) -> Data? {
        switch event.body {
        case .messageSent(let e)?: return e.messageID
        case .messageDecrypted(let e)?: return e.messageID
        case .accessDenied(let e)? where e.resource == "message": return HexDigits.decode(e.resourceID)
        default: return nil
        }
    }

    /// The types whose events can name a message id.
    public static let messageTypes: [EventType] = [.messageSent, .messageDecrypted, .accessDenied]
}

/// Hexadecimal text for ids (message ids are typed and shown in hex).
public enum HexDigits {
    /// Bytes from hexadecimal digits (either case), or nil if `text` is not an even count of them.
    public static func decode(_ text: String) -> Data? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 0x30...0x39: digit - 0x30
            case 0x61...0x66: digit - 0x61 + 10
            case 0x41...0x46: digit - 0x41 + 10
            default: nil
            }
        }
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return Data(bytes)
    }

    /// `data` as lowercase hexadecimal digits.
    public static func encode(_ data: Data) -> String {
        var json = CanonicalJSON(capacity: data.count * 2 + 2)
        json.hex(data)
        return String(decoding: json.bytes.dropFirst().dropLast(), as: UTF8.self)
    }
}
