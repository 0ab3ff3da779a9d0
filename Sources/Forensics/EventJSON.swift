import EventLog
import Foundation
public import QSMEvents
import SwiftProtobuf

/// Writes events as canonical JSON objects, one per NDJSON line: the format of `qsm log export`,
/// documented in docs/forensics.md.
///
/// Keys are sorted and field names are the protobuf JSON names (lowerCamelCase); every scalar field of
/// a known body is written, also when it holds its default; an unset sub-message is left out. Bytes are
/// lowercase hex, 64-bit integers exact decimal numbers, enums their schema names. Secrets are written
/// exactly as stored: wrapped or encrypted, never opened.
public enum EventJSON {
    /// Appends `event` (decoded from the record at its position) as one JSON object and a newline.
    public static func appendLine(_ event: QSMEvent, to json: inout CanonicalJSON) {
        append(event, to: &json)
        json.newline()
    }

    /// Appends `event` as one JSON object.
    public static func append(_ event: QSMEvent, to json: inout CanonicalJSON) {
        json.beginObject()
        json.key("actor")
        json.string(event.actor)
        json.key("body")
        var bodyUnknown = Data()
        if let body = event.body { bodyUnknown = appendBody(body, to: &json) } else { json.null() }
        if !bodyUnknown.isEmpty {
            json.key("bodyUnknownFieldsHex")
            json.hex(bodyUnknown)
        }
        json.key("correlationId")
        json.hex(event.correlationID)
        if event.hasPeer {
            json.key("peer")
            json.beginObject()
            json.key("gid")
            json.number(event.peer.gid)
            json.key("pid")
            json.number(event.peer.pid)
            json.key("uid")
            json.number(event.peer.uid)
            json.endObject()
        }
        json.key("position")
        json.number(event.position)
        json.key("recordedAt")
        json.timestamp(micros: event.recordedAtUs)
        json.key("recordedAtMicros")
        json.number(event.recordedAtUs)
        json.key("schemaVersion")
        json.number(event.schemaVersion)
        json.key("type")
        if let type = event.eventType { json.string(type.name) } else { json.string("unknown") }
        json.key("typeId")
        json.number(event.type)
        if !event.unknownFields.data.isEmpty {
            // A body type newer than this build: kept, undecoded, so nothing is lost.
            json.key("unknownFieldsHex")
            json.hex(event.unknownFields.data)
        }
        json.endObject()
    }

    /// Appends `event`'s body alone as one JSON object, in the form `append` gives it (bytes as hex,
    /// 64-bit integers as numbers), or null for an event without one: what io.qsm.Admin.ReadEvents sends
    /// as an event's data, so the socket and the offline tools speak one format.
    public static func appendBody(of event: QSMEvent, to json: inout CanonicalJSON) {
        if let body = event.body { _ = appendBody(body, to: &json) } else { json.null() }
    }

    /// Each body's fields, in sorted order of their JSON names; returns the body's unknown fields
    /// (taken per case: going through `body.message` would box every body in an existential).
    private static func appendBody(_ body: QSMEvent.OneOf_Body, to json: inout CanonicalJSON) -> Data {
        json.beginObject()
        var unknown = Data()
        switch body {
        case .userRegistered(let e):
            unknown = e.unknownFields.data
            if !e.ignoredOrigin.isEmpty { json.key("ignoredOrigin"); json.string(e.ignoredOrigin) }
            json.key("passwordHash"); json.string(e.passwordHash)
            if e.hasPqcPrivateKey { json.key("pqcPrivateKey"); wrapped(e.pqcPrivateKey, &json) }
            json.key("pqcPublicKey"); json.hex(e.pqcPublicKey)
            json.key("username"); json.string(e.username)
        case .passwordChanged(let e):
            unknown = e.unknownFields.data
            json.key("passwordHash"); json.string(e.passwordHash)
            if e.hasPqcPrivateKey { json.key("pqcPrivateKey"); wrapped(e.pqcPrivateKey, &json) }
            json.key("reason"); enumValue(e.reason.rawValue, EnumNames.passwordChangedReason, &json)
            json.key("username"); json.string(e.username)
        case .loginSucceeded(let e):
            unknown = e.unknownFields.data
            json.key("expiresAtUs"); json.number(e.expiresAtUs)
            if !e.ignoredOrigin.isEmpty { json.key("ignoredOrigin"); json.string(e.ignoredOrigin) }
            // Only when set: exports of logs without second factors stay as they were.
            if e.secondFactorStep != 0 { json.key("secondFactorStep"); json.number(e.secondFactorStep) }
            json.key("sessionId"); json.hex(e.sessionID)
            if e.hasSessionPrivateKey { json.key("sessionPrivateKey"); wrapped(e.sessionPrivateKey, &json) }
            json.key("username"); json.string(e.username)
        case .loginFailed(let e):
            unknown = e.unknownFields.data
            if !e.ignoredOrigin.isEmpty { json.key("ignoredOrigin"); json.string(e.ignoredOrigin) }
            json.key("reason"); enumValue(e.reason.rawValue, EnumNames.loginFailedReason, &json)
            json.key("source"); json.string(e.source)
            json.key("username"); json.string(e.username)
        case .loggedOut(let e):
            unknown = e.unknownFields.data
            json.key("sessionId"); json.hex(e.sessionID)
            json.key("username"); json.string(e.username)
        case .sessionExpired(let e):
            unknown = e.unknownFields.data
            json.key("expiredAtUs"); json.number(e.expiredAtUs)
            json.key("sessionId"); json.hex(e.sessionID)
            json.key("username"); json.string(e.username)
        case .keyExchangeCompleted(let e):
            unknown = e.unknownFields.data
            json.key("exchangeId"); json.hex(e.exchangeID)
            if e.hasFigures { json.key("figures"); figures(e.figures, &json) }
            json.key("initiator"); json.string(e.initiator)
            if e.hasKey { json.key("key"); wrapped(e.key, &json) }
            json.key("keyId"); json.string(e.keyID)
            json.key("peer"); json.string(e.peer)
            json.key("poolOffset"); json.number(e.poolOffset)
        case .keyExchangeAborted(let e):
            unknown = e.unknownFields.data
            json.key("detail"); json.string(e.detail)
            json.key("exchangeId"); json.hex(e.exchangeID)
            if e.hasFigures { json.key("figures"); figures(e.figures, &json) }
            json.key("initiator"); json.string(e.initiator)
            json.key("peer"); json.string(e.peer)
            json.key("reason"); enumValue(e.reason.rawValue, EnumNames.keyExchangeAbortedReason, &json)
        case .messageSent(let e):
            unknown = e.unknownFields.data
            json.key("blockCounter"); json.number(e.blockCounter)
            json.key("ciphertext"); json.hex(e.ciphertext)
            json.key("encapsulatedKey"); json.hex(e.encapsulatedKey)
            json.key("keyId"); json.string(e.keyID)
            json.key("messageId"); json.hex(e.messageID)
            json.key("mode"); enumValue(e.mode.rawValue, EnumNames.messageMode, &json)
            json.key("nonce"); json.hex(e.nonce)
            json.key("poolRanges")
            json.beginArray()
            for range in e.poolRanges {
                json.beginObject()
                json.key("length"); json.number(range.length)
                json.key("start"); json.number(range.start)
                json.endObject()
            }
            json.endArray()
            json.key("recipient"); json.string(e.recipient)
            json.key("sender"); json.string(e.sender)
            // Only in pqc messages sent since the sender copy exists: older exports stay byte for byte.
            if !e.senderCiphertext.isEmpty { json.key("senderCiphertext"); json.hex(e.senderCiphertext) }
            if !e.senderEncapsulatedKey.isEmpty { json.key("senderEncapsulatedKey"); json.hex(e.senderEncapsulatedKey) }
            json.key("size"); json.number(e.size)
            json.key("tag"); json.hex(e.tag)
        case .messageDecrypted(let e):
            unknown = e.unknownFields.data
            json.key("messageId"); json.hex(e.messageID)
            json.key("reader"); json.string(e.reader)
            json.key("sender"); json.string(e.sender)
        case .accessDenied(let e):
            unknown = e.unknownFields.data
            json.key("method"); json.string(e.method)
            json.key("owner"); json.string(e.owner)
            json.key("reason"); enumValue(e.reason.rawValue, EnumNames.accessDeniedReason, &json)
            json.key("resource"); json.string(e.resource)
            json.key("resourceId"); json.string(e.resourceID)
            json.key("source"); json.string(e.source)
            json.key("username"); json.string(e.username)
        case .alertRaised(let e):
            unknown = e.unknownFields.data
            json.key("alertId"); json.string(e.alertID)
            json.key("evidencePositions")
            json.beginArray()
            for position in e.evidencePositions { json.number(position) }
            json.endArray()
            json.key("rule"); json.string(e.rule)
            json.key("severity"); enumValue(e.severity.rawValue, EnumNames.severity, &json)
            json.key("subject"); json.string(e.subject)
            json.key("summary"); json.string(e.summary)
            json.key("triggerPosition"); json.number(e.triggerPosition)
        case .accountLocked(let e):
            unknown = e.unknownFields.data
            json.key("level"); json.number(e.level)
            json.key("rule"); json.string(e.rule)
            json.key("source"); json.string(e.source)
            json.key("triggerPosition"); json.number(e.triggerPosition)
            json.key("untilUs"); json.number(e.untilUs)
            json.key("username"); json.string(e.username)
        case .accountUnlocked(let e):
            unknown = e.unknownFields.data
            json.key("reason"); enumValue(e.reason.rawValue, EnumNames.accountUnlockedReason, &json)
            json.key("username"); json.string(e.username)
        case .checkpointSigned(let e):
            unknown = e.unknownFields.data
            json.key("algorithm"); json.string(e.algorithm)
            json.key("chainHash"); json.hex(e.chainHash)
            json.key("checkpointPosition"); json.number(e.checkpointPosition)
            json.key("publicKeyId"); json.hex(e.publicKeyID)
            json.key("signature"); json.hex(e.signature)
        case .keyMaterialRetired(let e):
            unknown = e.unknownFields.data
            json.key("bits"); json.number(e.bits)
            json.key("cause"); json.string(e.cause)
            json.key("detail"); json.string(e.detail)
            json.key("pairs"); json.number(UInt64(e.pairs))
        case .signingKeyReplaced(let e):
            unknown = e.unknownFields.data
            json.key("previousPublicKeyId"); json.hex(e.previousPublicKeyID)
            json.key("publicKey"); json.hex(e.publicKey)
            json.key("publicKeyId"); json.hex(e.publicKeyID)
        case .refusalsAggregated(let e):
            unknown = e.unknownFields.data
            json.key("count"); json.number(e.count)
            json.key("firstAtUs"); json.number(e.firstAtUs)
            json.key("kinds")
            json.beginArray()
            for kind in e.kinds {
                json.beginObject()
                json.key("count"); json.number(kind.count)
                json.key("kind"); json.string(kind.kind)
                json.endObject()
            }
            json.endArray()
            json.key("lastAtUs"); json.number(e.lastAtUs)
            json.key("source"); json.string(e.source)
        case .decryptionFailed(let e):
            unknown = e.unknownFields.data
            json.key("messageId"); json.hex(e.messageID)
            json.key("mode"); json.string(e.mode)
            json.key("reader"); json.string(e.reader)
            json.key("sender"); json.string(e.sender)
        case .secondFactorStarted(let e):
            unknown = e.unknownFields.data
            json.key("algorithm"); json.string(e.algorithm)
            json.key("digits"); json.number(UInt64(e.digits))
            json.key("periodSeconds"); json.number(UInt64(e.periodSeconds))
            if e.hasSecret { json.key("secret"); wrapped(e.secret, &json) }
            json.key("username"); json.string(e.username)
        case .secondFactorEnabled(let e):
            unknown = e.unknownFields.data
            hashes(e.recoveryCodeHashes, &json)
            json.key("step"); json.number(e.step)
            json.key("username"); json.string(e.username)
        case .secondFactorDisabled(let e):
            unknown = e.unknownFields.data
            json.key("step"); json.number(e.step)
            json.key("username"); json.string(e.username)
        case .recoveryCodesGenerated(let e):
            unknown = e.unknownFields.data
            hashes(e.recoveryCodeHashes, &json)
            json.key("step"); json.number(e.step)
            json.key("username"); json.string(e.username)
        case .recoveryCodeUsed(let e):
            unknown = e.unknownFields.data
            json.key("index"); json.number(UInt64(e.index))
            json.key("method"); json.string(e.method)
            json.key("remaining"); json.number(UInt64(e.remaining))
            json.key("username"); json.string(e.username)
        }
        json.endObject()
        return unknown
    }

    private static func enumValue(_ rawValue: Int, _ names: [StaticString], _ json: inout CanonicalJSON) {
        if let name = EnumNames.name(rawValue, in: names) { json.string(name) } else { json.number(Int64(rawValue)) }
    }

    private static func hashes(_ hashes: [Data], _ json: inout CanonicalJSON) {
        json.key("recoveryCodeHashes")
        json.beginArray()
        for hash in hashes { json.hex(hash) }
        json.endArray()
    }

    private static func wrapped(_ secret: QSMWrappedSecret, _ json: inout CanonicalJSON) {
        json.beginObject()
        json.key("algorithm"); json.string(secret.algorithm)
        json.key("kdf"); json.string(secret.kdf)
        json.key("keyId"); json.string(secret.keyID)
        json.key("nonce"); json.hex(secret.nonce)
        json.key("sealed"); json.hex(secret.sealed)
        json.endObject()
    }

    private static func figures(_ f: QSMBB84Figures, _ json: inout CanonicalJSON) {
        json.beginObject()
        json.key("abortThreshold"); json.number(f.abortThreshold)
        json.key("amplificationUs"); json.number(f.amplificationUs)
        json.key("eavesdropperFraction"); json.number(f.eavesdropperFraction)
        json.key("efficiency"); json.number(f.efficiency)
        json.key("estimationUs"); json.number(f.estimationUs)
        json.key("finalBits"); json.number(f.finalBits)
        json.key("leakedBits"); json.number(f.leakedBits)
        json.key("loss"); json.number(f.loss)
        json.key("noise"); json.number(f.noise)
        json.key("qber"); json.number(f.qber)
        json.key("qberUpperBound"); json.number(f.qberUpperBound)
        json.key("qubitsDetected"); json.number(f.qubitsDetected)
        json.key("qubitsSent"); json.number(f.qubitsSent)
        json.key("reconciliationUs"); json.number(f.reconciliationUs)
        json.key("sampleSize"); json.number(f.sampleSize)
        json.key("secretFraction"); json.number(f.secretFraction)
        json.key("sifted"); json.number(f.sifted)
        json.key("siftingUs"); json.number(f.siftingUs)
        json.key("transmissionUs"); json.number(f.transmissionUs)
        json.endObject()
    }
}
