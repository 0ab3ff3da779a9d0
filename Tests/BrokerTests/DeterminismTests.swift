import Broker
import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Testing

@Suite("Determinism and secrecy at rest")
struct DeterminismTests {
    /// A random workload of tens of thousands of events from concurrent callers; live, restarted
    /// (snapshot plus tail) and rebuilt digests agree, and no alert is raised twice. Its refusals past
    /// each source's burst are aggregated and its guessing sources locked, as by default.
    @Test func liveRestartedAndRebuiltStatesAreEqual() async throws {
        // Send floods are this workload's normal: with the rule on, most sends would be throttled (and
        // write nothing); every other rule stays on and fires.
        var rules = IDSRules()
        rules.sendFlood = .init(count: 0, windowSeconds: 60)
        rules.sourceSendFlood = .init(count: 0, windowSeconds: 60)
        var test = try TestBroker(rules: rules, snapshotEvery: 30_000)
        let users = (0..<8).map { "user\($0)" }
        var tokens: [String: String] = [:]
        for (index, user) in users.enumerated() {
            tokens[user] = try await test.broker.enrol(user, caller: Peers.user(3000 + UInt32(index)))
        }
        let broker = test.broker
        let clock = test.clock
        let sessions = tokens
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    var generator = SeededGenerator(seed: UInt64(worker) + 1)
                    let me = users[worker % users.count]
                    let caller = Peers.user(3000 + UInt32(worker % users.count))
                    var received: [String] = []
                    for step in 0..<3_200 {
                        let roll = Int.random(in: 0..<100, using: &generator)
                        let other = users[(worker + 1 + Int.random(in: 0..<7, using: &generator)) % users.count]
                        let token = sessions[me]!
                        switch roll {
                        case 0..<70:
                            let mode = roll < 62 ? "aes" : roll < 66 ? "otp" : "pqc"
                            _ = try? await broker.send(
                                token: token, to: other, body: Data("w\(worker) s\(step)".utf8), mode: mode, caller: caller)
                        case 70..<82:
                            if received.isEmpty {
                                received = try await broker.inbox(token: token, unreadOnly: true, limit: 50, caller: caller).map(\.messageID)
                            }
                            if let id = received.popLast() { _ = try? await broker.decrypt(token: token, messageID: id, caller: caller) }
                        case 82..<92:
                            _ = try? await broker.login(username: other, password: "guess-\(step)", caller: caller)
                        case 92..<96:
                            _ = try? await broker.inbox(token: "forged-\(step)", caller: caller)
                        default:
                            // Someone else's message, by a guessed id or a real one.
                            _ = try? await broker.decrypt(token: token, messageID: String(repeating: "ab", count: 16), caller: caller)
                        }
                        if worker == 0 && step % 100 == 0 { clock.advance(seconds: 7) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let head = try test.broker.log.head().position
        // Most of its bad calls (forged tokens, guessed logins from locked sources, others' messages)
        // leave one refusals_aggregated event per source and minute instead of one event each.
        #expect(head >= 60_000, "workload made \(head) events")

        let live = try test.broker.digests()
        let rebuild = try await test.broker.rebuild(caller: Peers.admin)
        #expect(rebuild.position == head)
        #expect(rebuild.differences.isEmpty, "\(rebuild.differences)")
        #expect(rebuild.rebuilt == live)

        try await test.restart()
        // Closing appends one signed checkpoint of the head (docs/audit.md) and the counts of refusals
        // not yet written; the start retires the key material in force (docs/security.md, "Key reuse");
        // replaying raises nothing else.
        let reopened = try test.broker.log.head().position
        let tail = try test.broker.log.read(from: head + 2, limit: 100).map { try QSMEvent($0) }
        #expect(tail.dropLast().allSatisfy { $0.eventType == .refusalsAggregated }, "replaying raises nothing new")
        #expect(reopened == head + 1 + UInt64(tail.count))
        let closing = try QSMEvent(try #require(try test.broker.log.event(at: head + 1)))
        guard case .checkpointSigned(let checkpoint) = closing.body else {
            Issue.record("the event appended at close is \(closing.type), not a checkpoint")
            return
        }
        #expect(checkpoint.checkpointPosition == head)
        let retired = try #require(tail.last)
        guard case .keyMaterialRetired(let retirement) = retired.body else {
            Issue.record("the event appended at start is \(retired.type), not key_material_retired")
            return
        }
        #expect(retirement.cause == "start" && retirement.pairs > 0)
        let snapshot = try #require(try test.broker.log.loadSnapshot(named: "broker"))
        #expect(snapshot.position >= 30_000)
        // The restarted state came from that snapshot (the closing one), not from a replay of the log.
        #expect(test.broker.startReport.snapshotRefusal == nil)
        #expect(test.broker.startReport.snapshotPosition == snapshot.position, "\(test.broker.startReport)")
        #expect(test.broker.startReport.replayedEvents == reopened - 1 - snapshot.position)
        // The closing batch folded the refusal counts still pending (and their alerts) into the state, so
        // the restarted state is compared with a rebuild of the whole log, not with the live one before.
        let restarted = try test.broker.digests()
        let again = try await test.broker.rebuild(caller: Peers.admin)
        #expect(again.position == reopened && again.differences.isEmpty, "\(again.differences)")
        #expect(again.rebuilt == restarted, "differing after restart: \(restarted.keys.filter { again.rebuilt[$0] != restarted[$0] }.sorted())")
        #expect(restarted["keyPools"] != live["keyPools"], "the retirement changed the pools")

        let events = try test.broker.log.read(from: 1, limit: Int(head)).map { try QSMEvent($0) }
        #expect(events.contains { $0.eventType == .refusalsAggregated }, "the workload's refusals were aggregated")
        let alerts = events.compactMap { event -> QSMAlertRaised? in
            if case .alertRaised(let alert) = event.body { alert } else { nil }
        }
        #expect(!alerts.isEmpty, "the workload's failed logins and refusals raise alerts")
        #expect(Set(alerts.map(\.alertID)).count == alerts.count, "no alert is raised twice")
        #expect(Set(alerts.map { "\($0.rule) \($0.triggerPosition)" }).count == alerts.count)
        #expect(test.broker.state.keyPools.pools.values.allSatisfy { $0.refusedRanges == 0 }, "no pool range used twice")
        await test.broker.close()
    }

    /// Scans every byte of the data directory for message bodies, passwords, tokens and raw key bytes.
    @Test func nothingSecretIsAtRest() async throws {
        let test = try TestBroker()
        let broker = test.broker
        let passwords = ["alice": "alice-password-Zq81", "bob": "bob-password-Hy27"]
        var tokens: [String] = []
        for (user, password) in passwords.sorted(by: { $0.key < $1.key }) {
            _ = try await broker.register(username: user, password: password, caller: Peers.alice)
            tokens.append(try await broker.login(username: user, password: password, caller: Peers.alice).token)
        }
        var markers: [String] = []
        for mode in ["otp", "aes", "pqc", "aes", "otp"] {
            let marker = "MARKER-\(mode)-\(UUID().uuidString)"
            markers.append(marker)
            let sent = try await broker.send(token: tokens[0], to: "bob", body: Data(marker.utf8), mode: mode, caller: Peers.alice)
            #expect(try await broker.decrypt(token: tokens[1], messageID: sent.messageID, caller: Peers.bob).body == Data(marker.utf8))
        }
        let keys = try broker.rawPoolKeysForTesting()
        #expect(!keys.isEmpty)
        await broker.close()

        var needles: [(String, Data)] = markers.map { ($0, Data($0.utf8)) }
        needles += passwords.values.map { ("password", Data($0.utf8)) }
        for token in tokens {
            needles.append(("token text", Data(token.utf8)))
            let raw = try #require(Data(base64Encoded: token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "="))
            needles.append(("token bytes", raw))
        }
        for key in keys {
            // Any 16 consecutive bytes of a raw BB84 key would be a leak.
            needles.append(("pool key head", key.prefix(16)))
            needles.append(("pool key tail", key.suffix(16)))
        }
        let files = try FileManager.default.subpathsOfDirectory(atPath: test.directory.path)
        var scanned = 0
        for file in files where file != "master.key" {
            let path = test.directory.path + "/" + file
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            scanned += bytes.count
            for (what, needle) in needles {
                #expect(bytes.range(of: needle) == nil, "\(what) found in \(file)")
            }
        }
        #expect(scanned > 100_000)
        // The scan would find a plaintext if there were one: the snapshot's JSON holds the user names.
        let data = try Data(contentsOf: URL(fileURLWithPath: test.directory.path + "/log/data.mdb"))
        #expect(data.range(of: Data("alice".utf8)) != nil)
    }
}
