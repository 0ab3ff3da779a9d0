public import Broker
import EventLog
import Foundation
public import Varlink

/// io.qsm.Broker on the socket: each method calls the broker as the connection's peer.
public enum BrokerInterface {
    /// The interface for `broker`, from its IDL text `description`, with `admins` deciding who is an admin.
    /// On the gateway socket (`gateway`, qsmd's --gateway-socket, which qsm-web calls) no caller is an
    /// administrator, whatever its uid, and the `origin` of Login and Register is trusted: the intrusion
    /// detection keys its per-source rules by it. Elsewhere an `origin` is ignored and the event says so.
    public static func make(broker: Broker, description: String, admins: AdminPolicy, gateway: Bool = false) throws
        -> VarlinkInterface
    {
        var interface = try VarlinkInterface(description: description)
        let callerFor: @Sendable (Varlink.PeerCredentials) -> Caller = { peer in
            var caller = admins.caller(for: peer)
            // Every web user reaches the gateway as qsm-web's uid, often qsmd's own: none of them is an admin.
            if gateway { caller.isAdmin = false }
            return caller
        }
        func handle(_ name: String, _ body: @escaping @Sendable (VarlinkCall, Caller) async throws(BrokerError) -> JSONObject) {
            interface.method(name) { call in
                let caller = callerFor(call.peer)
                let outcome: Result<JSONObject, BrokerError>
                do throws(BrokerError) { outcome = .success(try await body(call, caller)) } catch { outcome = .failure(error) }
                switch outcome {
                case .success(let reply): return reply
                case .failure(let error): throw VarlinkMapping.error(error, now: broker.configuration.clock())
                }
            }
        }
        handle("Register") { call, caller throws(BrokerError) in
            let caller = try ClientOrigin.apply(call, to: caller, trusted: gateway)
            let name = try await broker.register(
                username: try param { try VarlinkMapping.string(call, "username") },
                password: try param { try VarlinkMapping.string(call, "password") }, caller: caller)
            return ["username": .string(name)]
        }
        handle("Login") { call, caller throws(BrokerError) in
            let caller = try ClientOrigin.apply(call, to: caller, trusted: gateway)
            let session = try await broker.login(
                username: try param { try VarlinkMapping.string(call, "username") },
                password: try param { try VarlinkMapping.string(call, "password") },
                code: try param { try VarlinkMapping.optionalString(call, "code") }, caller: caller)
            return ["session": ["token": .string(session.token), "username": .string(session.username),
                                "expiresAt": .int(Int(session.expiresAt))]]
        }
        handle("Logout") { call, caller throws(BrokerError) in
            try await broker.logout(token: try param { try VarlinkMapping.string(call, "token") }, caller: caller)
            return [:]
        }
        handle("ChangePassword") { call, caller throws(BrokerError) in
            try await broker.changePassword(
                token: try param { try VarlinkMapping.string(call, "token") },
                oldPassword: try param { try VarlinkMapping.string(call, "oldPassword") },
                newPassword: try param { try VarlinkMapping.string(call, "newPassword") }, caller: caller)
            return [:]
        }
        SecondFactorMethods.add(to: handle, broker: broker)
        handle("EstablishKey") { call, caller throws(BrokerError) in
            let options = KeyExchangeOptions(
                qubits: try param { try VarlinkMapping.optionalInt(call, "qubits") },
                noise: try param { try VarlinkMapping.optionalDouble(call, "noise") },
                eavesdropper: try param { try VarlinkMapping.optionalDouble(call, "eavesdropper") },
                basisBias: try param { try VarlinkMapping.optionalDouble(call, "basisBias") })
            let report = try await broker.establishKey(
                token: try param { try VarlinkMapping.string(call, "token") },
                peer: try param { try VarlinkMapping.string(call, "peer") }, options: options, caller: caller)
            return ["exchange": .object([
                "keyId": .string(report.keyID), "peer": .string(report.peer), "qubitsSent": VarlinkMapping.int(report.qubitsSent),
                "sifted": VarlinkMapping.int(report.sifted), "sampleSize": VarlinkMapping.int(report.sampleSize),
                "qber": .double(report.qber), "qberUpperBound": .double(report.qberUpperBound),
                "leakedBits": VarlinkMapping.int(report.leakedBits), "finalBits": VarlinkMapping.int(report.finalBits),
                "efficiency": .double(report.efficiency),
            ])]
        }
        handle("Send") { call, caller throws(BrokerError) in
            let sent = try await broker.send(
                token: try param { try VarlinkMapping.string(call, "token") },
                to: try param { try VarlinkMapping.string(call, "to") },
                body: Data(try param { try VarlinkMapping.string(call, "body") }.utf8),
                mode: call["mode"]?.stringValue, caller: caller)
            return ["messageId": .string(sent.messageID), "position": VarlinkMapping.int(sent.position)]
        }
        handle("KeyStatus") { call, caller throws(BrokerError) in
            let pools = try await broker.keyStatus(token: try param { try VarlinkMapping.string(call, "token") }, caller: caller)
            return ["pools": .array(pools.map { pool in .object([
                "peer": .string(pool.peer), "availableBits": VarlinkMapping.int(pool.availableBits), "keys": .int(pool.keys),
            ]) })]
        }
        handle("Inbox") { call, caller throws(BrokerError) in
            let page = try await broker.inboxPage(
                token: try param { try VarlinkMapping.string(call, "token") },
                unreadOnly: try param { try VarlinkMapping.optionalBool(call, "unreadOnly") } ?? false,
                limit: try param { try VarlinkMapping.optionalInt(call, "limit") },
                cursor: call["cursor"]?.stringValue, caller: caller)
            return ["messages": .array(page.items.map { entry in .object([
                "messageId": .string(entry.messageID), "from": .string(entry.from), "sentAt": .int(Int(entry.sentAt)),
                "mode": .string(entry.mode), "size": VarlinkMapping.int(entry.size), "read": .bool(entry.read),
            ]) }), "total": .int(page.total), "more": .int(page.more), "cursor": page.cursor.map { .string($0) } ?? .null]
        }
        handle("Decrypt") { call, caller throws(BrokerError) in
            let message = try await broker.decrypt(
                token: try param { try VarlinkMapping.string(call, "token") },
                messageID: try param { try VarlinkMapping.string(call, "messageId") }, caller: caller)
            return ["body": .string(String(decoding: message.body, as: UTF8.self)), "from": .string(message.from),
                    "to": .string(message.to), "sentAt": .int(Int(message.sentAt)), "mode": .string(message.mode)]
        }
        handle("History") { call, caller throws(BrokerError) in
            let page = try await broker.historyPage(
                token: try param { try VarlinkMapping.string(call, "token") },
                limit: try param { try VarlinkMapping.optionalInt(call, "limit") },
                cursor: call["cursor"]?.stringValue, caller: caller)
            return ["entries": .array(page.items.map { entry in .object([
                "position": VarlinkMapping.int(entry.position), "at": .int(Int(entry.at)), "kind": .string(entry.kind),
                "summary": .string(entry.summary),
            ]) }), "total": .int(page.total), "more": .int(page.more), "cursor": page.cursor.map { .string($0) } ?? .null]
        }
        handle("Dashboard") { call, caller throws(BrokerError) in
            dashboard(try await broker.dashboard(
                token: try param { try VarlinkMapping.string(call, "token") }, minutes: try dashboardMinutes(call), caller: caller))
        }
        handle("MyAlerts") { call, caller throws(BrokerError) in
            let alerts = try await broker.myAlerts(
                token: try param { try VarlinkMapping.string(call, "token") },
                limit: try param { try VarlinkMapping.optionalInt(call, "limit") }, caller: caller)
            return ["alerts": .array(alerts.map { alert in .object([
                "alertId": .string(alert.id), "at": .int(Int(alert.at)), "rule": .string(alert.rule),
                "severity": .string(alert.severity), "subject": .string(alert.subject), "message": .string(alert.summary),
            ]) })]
        }
        interface.streamingMethod("WatchDashboard") { call, replier in
            let caller = callerFor(call.peer)
            do {
                let token = try VarlinkMapping.string(call, "token")
                let minutes = try dashboardMinutes(call)
                var last = try await broker.dashboard(token: token, minutes: minutes, caller: caller)
                try await replier.send(dashboard(last))
                for await _ in broker.changes() {
                    let next = try await broker.dashboard(token: token, minutes: minutes, caller: caller)
                    guard next != last else { continue }
                    last = next
                    try await replier.send(dashboard(next))
                    // Coalesce bursts: at most four updates a second.
                    try await Task.sleep(for: .milliseconds(250))
                }
                return dashboard(last)
            } catch let error as BrokerError {
                throw VarlinkMapping.error(error, now: broker.configuration.clock())
            }
        }
        return interface
    }

    /// Runs a parameter extraction, turning its Varlink error into a broker refusal the handler maps back.
    static func param<T>(_ body: () throws -> T) throws(BrokerError) -> T {
        do { return try body() } catch let error as VarlinkError {
            throw .invalidParameter(name: error.parameters["parameter"]?.stringValue ?? "parameters", reason: "missing or of the wrong type")
        } catch {
            throw .invalidParameter(name: "parameters", reason: "\(error)")
        }
    }

    /// The `minutes` parameter of Dashboard and WatchDashboard: 60 when absent, 1 to 1440 (24 hours).
    static func dashboardMinutes(_ call: VarlinkCall) throws(BrokerError) -> Int64 {
        let minutes = try param { try VarlinkMapping.optionalInt(call, "minutes") } ?? 60
        guard (1...Int(DashboardProjection.seriesMinutes)).contains(minutes) else {
            throw .invalidParameter(name: "minutes", reason: "must lie between 1 and \(DashboardProjection.seriesMinutes)")
        }
        return Int64(minutes)
    }

    /// The Dashboard reply for `view`: what `qsm dashboard --json` prints and `--input` reads back.
    public static func dashboard(_ view: DashboardView) -> JSONObject {
        let c = view.counters
        return [
            "counters": .object([
                "registrations": VarlinkMapping.int(c.registrations), "loginsSucceeded": VarlinkMapping.int(c.loginsSucceeded),
                "loginsFailed": VarlinkMapping.int(c.loginsFailed), "keyExchanges": VarlinkMapping.int(c.keyExchanges),
                "keyExchangesAborted": VarlinkMapping.int(c.keyExchangesAborted),
                "encryptions": VarlinkMapping.int(c.totalEncryptions), "decryptions": VarlinkMapping.int(c.totalDecryptions),
                "alerts": VarlinkMapping.int(c.totalAlerts), "activeSessions": .int(view.activeSessions),
                "meanQber": .double(c.meanQBER), "keyBitsMade": VarlinkMapping.int(c.keyBitsMade),
                "keyBitsUsed": VarlinkMapping.int(c.keyBitsUsed),
                "encryptionsByMode": .object(c.encryptions.mapValues { VarlinkMapping.int($0) }),
                "decryptionsByMode": .object(c.decryptions.mapValues { VarlinkMapping.int($0) }),
                "alertsBySeverity": .object(c.alerts.mapValues { VarlinkMapping.int($0) }),
            ]),
            "minutes": .array(view.series.map { point in .object([
                "minute": .int(Int(point.minute)), "sends": VarlinkMapping.int(point.counts.sends),
                "decryptions": VarlinkMapping.int(point.counts.decryptions),
                "loginsFailed": VarlinkMapping.int(point.counts.loginsFailed), "alerts": VarlinkMapping.int(point.counts.alerts),
            ]) }),
            "exchanges": .array(view.exchanges.map { exchange in .object([
                "at": .int(Int(exchange.at)), "qber": .double(exchange.qber),
                "qberUpperBound": .double(exchange.qberUpperBound), "threshold": .double(exchange.threshold),
                "aborted": .bool(exchange.aborted),
            ]) }),
        ]
    }
}
