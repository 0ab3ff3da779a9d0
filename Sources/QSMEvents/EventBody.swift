public import EventLog
public import Foundation
public import SwiftProtobuf

extension QSMEvent.OneOf_Body {
    /// The body's event type.
    public var type: EventType {
        switch self {
        case .userRegistered: .userRegistered
        case .passwordChanged: .passwordChanged
        case .loginSucceeded: .loginSucceeded
        case .loginFailed: .loginFailed
        case .loggedOut: .loggedOut
        case .sessionExpired: .sessionExpired
        case .keyExchangeCompleted: .keyExchangeCompleted
        case .keyExchangeAborted: .keyExchangeAborted
        case .messageSent: .messageSent
        case .messageDecrypted: .messageDecrypted
        case .accessDenied: .accessDenied
        case .alertRaised: .alertRaised
        case .accountLocked: .accountLocked
        case .accountUnlocked: .accountUnlocked
        case .checkpointSigned: .checkpointSigned
        case .keyMaterialRetired: .keyMaterialRetired
        case .signingKeyReplaced: .signingKeyReplaced
        case .refusalsAggregated: .refusalsAggregated
        case .decryptionFailed: .decryptionFailed
        case .secondFactorStarted: .secondFactorStarted
        case .secondFactorEnabled: .secondFactorEnabled
        case .secondFactorDisabled: .secondFactorDisabled
        case .recoveryCodesGenerated: .recoveryCodesGenerated
        case .recoveryCodeUsed: .recoveryCodeUsed
        }
    }

    /// The body's message.
    public var message: any SwiftProtobuf.Message {
        switch self {
        case .userRegistered(let m): m
        case .passwordChanged(let m): m
        case .loginSucceeded(let m): m
        case .loginFailed(let m): m
        case .loggedOut(let m): m
        case .sessionExpired(let m): m
        case .keyExchangeCompleted(let m): m
        case .keyExchangeAborted(let m): m
        case .messageSent(let m): m
        case .messageDecrypted(let m): m
        case .accessDenied(let m): m
        case .alertRaised(let m): m
        case .accountLocked(let m): m
        case .accountUnlocked(let m): m
        case .checkpointSigned(let m): m
        case .keyMaterialRetired(let m): m
        case .signingKeyReplaced(let m): m
        case .refusalsAggregated(let m): m
        case .decryptionFailed(let m): m
        case .secondFactorStarted(let m): m
        case .secondFactorEnabled(let m): m
        case .secondFactorDisabled(let m): m
        case .recoveryCodesGenerated(let m): m
        case .recoveryCodeUsed(let m): m
        }
    }
}

extension NewEvent {
    /// An event to append with `body`, its type id and current schema version.
    ///
    /// - Parameters:
    ///   - body: the event.
    ///   - actor: the user it is by or about (empty for system events).
    ///   - correlationID: ties together the events of one command.
    ///   - peer: the socket peer that caused it.
    public init(
        _ body: QSMEvent.OneOf_Body, actor: String = "", correlationID: Data = Data(), peer: PeerCredentials? = nil
    ) throws {
        let type = body.type
        self.init(
            type: type.rawValue, schemaVersion: type.currentSchemaVersion, actor: actor, correlationID: correlationID,
            peer: peer, body: try body.message.serializedBytes())
    }
}

extension QSMEvent {
    /// Decodes a stored record: header fields and body in one pass.
    public init(_ stored: StoredEvent) throws {
        do {
            try self.init(serializedBytes: stored.record)
        } catch {
            throw EventLogError.corruptRecord(reason: "event at position \(stored.position) does not decode: \(error)")
        }
    }

    /// The event's type, if this build knows it.
    public var eventType: EventType? { EventType(rawValue: type) }

    /// The socket peer that caused the event, if any.
    public var peerCredentials: PeerCredentials? {
        hasPeer ? PeerCredentials(uid: peer.uid, gid: peer.gid, pid: peer.pid) : nil
    }
}
