public import Broker
import EventLog
import Forensics
import Foundation
import QSMEvents
import SwiftProtobuf
public import Varlink

/// io.qsm.Admin on the socket. The broker checks the caller and records refusals; a refused call gets
/// org.varlink.service.PermissionDenied.
public enum AdminInterface {
    /// The interface for `broker`, from its IDL text `description`, with `admins` deciding who is an admin.
    public static func make(broker: Broker, description: String, admins: AdminPolicy) throws -> VarlinkInterface {
        var interface = try VarlinkInterface(description: description)
        @Sendable func mapped<T>(_ body: () async throws(BrokerError) -> T) async throws -> T {
            do { return try await body() } catch { throw VarlinkMapping.error(error, now: broker.configuration.clock()) }
        }
        // Permission before parameters: someone who may not call the method learns nothing from how their
        // parameters would have been judged, and the refusal is recorded whatever they sent.
        @Sendable func admin(_ call: VarlinkCall, _ method: String) async throws -> Caller {
            let caller = admins.caller(for: call.peer)
            if !caller.isAdmin {
                try await mapped { () async throws(BrokerError) in try await broker.refuseNonAdmin(method: method, caller: caller) }
            }
            return caller
        }
        interface.method("Alerts") { call in
            let caller = try await admin(call, "Alerts")
            let limit = try VarlinkMapping.optionalInt(call, "limit")
            let alerts = try await mapped { () async throws(BrokerError) in try await broker.alerts(limit: limit, caller: caller) }
            return ["alerts": .array(alerts.map(alert))]
        }
        interface.streamingMethod("WatchAlerts") { call, replier in
            let caller = try await admin(call, "WatchAlerts")
            let last = try VarlinkMapping.optionalInt(call, "last")
            // The latest alerts and the position to follow from come from one read: none falls between.
            let recent = try await mapped { () async throws(BrokerError) in
                try await broker.alerts(limit: last ?? 1, caller: caller, method: "WatchAlerts")
            }
            var seen = recent.first?.position ?? 0
            if last != nil {
                for item in recent.reversed() { try await replier.send(["alert": alert(item)]) }
            }
            for await _ in broker.changes() {
                let fresh = try await mapped { () async throws(BrokerError) in try await broker.alerts(after: seen, caller: caller) }
                for item in fresh {
                    try await replier.send(["alert": alert(item)])
                    seen = item.position
                }
            }
            throw VarlinkError("io.qsm.Broker.Unavailable", parameters: ["reason": "the broker is shutting down"])
        }
        interface.streamingMethod("ReadEvents", requiresMore: false) { call, replier in
            let caller = try await admin(call, "ReadEvents")
            let from = try VarlinkMapping.optionalInt(call, "from") ?? 1
            let asked = try VarlinkMapping.optionalInt(call, "limit")
            guard from >= 1 else { throw VarlinkError("io.qsm.Broker.InvalidInput", parameters: ["field": "from", "reason": "must be at least 1"]) }
            let limit = try await mapped { () async throws(BrokerError) in try Broker.readLimit(asked) }
            @Sendable func page(from: UInt64, limit: Int) async throws -> [QSMEvent] {
                try await mapped { () async throws(BrokerError) in
                    try await broker.readEvents(from: from, limit: limit, caller: caller)
                }
            }
            guard replier.canContinue else {
                return ["event": try await page(from: UInt64(from), limit: 1).first.map(event) ?? .null]
            }
            // Read a page at a time, each after the previous one is sent: send waits while the peer does
            // not read, so a stalled stream holds one page, not all `limit` events (issue 16: 40 streams
            // never read took 500 MB when each held its whole answer).
            var pending = try await page(from: UInt64(from), limit: min(limit, Self.readEventsPage))
            guard var last = pending.popLast() else { return ["event": .null] }
            var read = pending.count + 1
            while true {
                for item in pending { try await replier.send(["event": event(item)]) }
                guard read < limit else { break }
                let next = try await page(from: last.position + 1, limit: min(limit - read, Self.readEventsPage))
                guard !next.isEmpty else { break }
                // The last event read is the final reply unless more follow.
                try await replier.send(["event": event(last)])
                read += next.count
                pending = next
                last = pending.removeLast()
            }
            return ["event": event(last)]
        }
        interface.method("VerifyChain") { call in
            let caller = try await admin(call, "VerifyChain")
            let report = try await mapped { () async throws(BrokerError) in try await broker.verifyChain(caller: caller) }
            var reply: JSONObject = ["ok": .bool(report.isValid), "lastPosition": VarlinkMapping.int(report.chain.verifiedEvents)]
            if let problem = report.firstProblem { reply["firstBadPosition"] = VarlinkMapping.int(problem.position) }
            return reply
        }
        interface.method("Rebuild") { call in
            let caller = try await admin(call, "Rebuild")
            let projection = call["projection"]?.stringValue
            if let projection, !BrokerState.projectionNames.contains(projection) {
                throw VarlinkError("io.qsm.Admin.NoSuchProjection", parameters: ["name": .string(projection)])
            }
            let swap = try VarlinkMapping.optionalBool(call, "swap") ?? false
            let report = try await mapped { () async throws(BrokerError) in try await broker.rebuild(swap: swap, projection: projection, caller: caller) }
            let names = projection.map { [$0] } ?? BrokerState.projectionNames
            return [
                "position": VarlinkMapping.int(report.position),
                "equal": .bool(names.allSatisfy { report.live[$0] == report.rebuilt[$0] }),
                "digests": .array(names.map { name in .object([
                    "name": .string(name), "live": .string(report.live[name] ?? ""), "rebuilt": .string(report.rebuilt[name] ?? ""),
                ]) }),
                "seconds": .double(report.seconds),
                "swapped": .bool(report.swapped),
            ]
        }
        interface.method("Stats") { call in
            let caller = try await admin(call, "Stats")
            let stats = try await mapped { () async throws(BrokerError) in try await broker.stats(caller: caller) }
            return [
                "head": VarlinkMapping.int(stats.head), "logBytes": .int(stats.logBytes), "mapBytes": .int(stats.mapBytes),
                "commits": VarlinkMapping.int(stats.commits), "events": VarlinkMapping.int(stats.eventsAppended),
                "batches": VarlinkMapping.int(stats.batches), "commands": VarlinkMapping.int(stats.commands),
                "users": .int(stats.users), "messages": .int(stats.messages),
            ]
        }
        return interface
    }

    /// Events ReadEvents reads from the log at a time.
    static let readEventsPage = 16

    static func alert(_ alert: IDSProjection.Alert) -> JSONValue {
        .object([
            "alertId": .string(alert.id), "position": VarlinkMapping.int(alert.position), "at": .int(Int(alert.at)),
            "rule": .string(alert.rule), "severity": .string(alert.severity), "subject": .string(alert.subject),
            "message": .string(alert.summary), "evidence": .array(alert.evidence.map { VarlinkMapping.int($0) }),
        ])
    }

    static func event(_ event: QSMEvent) -> JSONValue {
        // The body as `qsm log export` writes it: ids and keys in hex, 64-bit integers as numbers.
        var data: JSONValue = .object([:])
        var json = CanonicalJSON(capacity: 512)
        EventJSON.appendBody(of: event, to: &json)
        if let object = try? JSONSerialization.jsonObject(with: Data(json.bytes)), object is [String: Any] {
            data = VarlinkMapping.json(object)
        }
        var object: JSONObject = [
            "position": VarlinkMapping.int(event.position), "at": .int(Int(event.recordedAtUs)),
            "type": .string(event.eventType?.name ?? "type \(event.type)"), "actor": .string(event.actor), "data": data,
        ]
        if event.hasPeer {
            object["peer"] = ["uid": VarlinkMapping.int(event.peer.uid), "gid": VarlinkMapping.int(event.peer.gid),
                              "pid": VarlinkMapping.int(event.peer.pid)]
        }
        return .object(object)
    }
}
