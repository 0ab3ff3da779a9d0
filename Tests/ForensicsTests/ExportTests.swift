import Broker
import EventLog
import Forensics
import Foundation
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

/// `qsm log export` as a user runs it: Python parses every line, finds it canonical and counts the log's
/// events; nothing a user sent is in it.
@Suite("Export")
struct ExportTests {
    /// Reads an NDJSON file: counts lines, checks each parses and is canonical (equal to Python's sorted,
    /// compact dump of what it parsed), tallies types; prints one JSON summary.
    static let reader = """
        import json, sys
        count = 0; bad = []; types = {}; positions = []
        with open(sys.argv[1], encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\\n")
                obj = json.loads(line)
                if json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) != line:
                    bad.append(obj.get("position"))
                types[obj["type"]] = types.get(obj["type"], 0) + 1
                positions.append(obj["position"])
                count += 1
        dense = positions == list(range(1, count + 1))
        print(json.dumps({"count": count, "notCanonical": bad[:5], "types": types, "dense": dense}))
        """

    struct Finding: Decodable {
        let count: Int
        let notCanonical: [Int]
        let types: [String: Int]
        let dense: Bool
    }

    /// Exports `data` with the qsm binary and reads the file with Python.
    private func exportAndRead(_ data: String, _ extra: [String] = []) async throws -> (QSMRun, Finding) {
        let run = try await runQSM(["log", "export", "--data", data] + extra)
        try #require(run.status == 0, "export failed: \(run.standardError)")
        let scratch = try TemporaryDirectory(prefix: "qsm-export")
        let file = scratch.appending("export.ndjson")
        try run.output.write(to: URL(fileURLWithPath: file))
        let (status, lines, stderr) = try await runPython(Self.reader, [file])
        try #require(status == 0, "the Python reader failed: \(stderr)")
        let finding = try JSONDecoder().decode(Finding.self, from: Data(try #require(lines.last).utf8))
        return (run, finding)
    }

    @Test func brokerLogExportsEveryEventAndNoPlaintext() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-export-broker")
        var configuration = BrokerConfiguration(dataDirectory: directory.path)
        configuration.passwordMemoryKiB = 8
        configuration.passwordIterations = 1
        configuration.allowCheapPasswordHashingForTests = true
        configuration.defaultQubits = 40_000
        configuration.topUpQubits = 40_000
        let broker = try Broker(configuration: configuration)
        func caller(_ uid: UInt32) -> Caller { Caller(peer: PeerCredentials(uid: uid, gid: uid, pid: Int32(uid) + 10_000)) }
        func enrol(_ name: String, _ uid: UInt32) async throws -> String {
            _ = try await broker.register(username: name, password: name + "-password", caller: caller(uid))
            return try await broker.login(username: name, password: name + "-password", caller: caller(uid)).token
        }
        let alice = try await enrol("alice", 1001)
        let bob = try await enrol("bob", 1002)
        let mallory = try await enrol("mallory", 1003)
        _ = try await broker.establishKey(token: alice, peer: "bob", caller: caller(1001))
        let marker = "PLAINTEXT-MARKER-7f3a-meet-at-the-quantum-cafe"
        var ids: [String] = []
        for mode in ["otp", "aes", "pqc"] {
            let sent = try await broker.send(
                token: alice, to: "bob", body: Data((marker + "-" + mode).utf8), mode: mode, caller: caller(1001))
            let opened = try await broker.decrypt(token: bob, messageID: sent.messageID, caller: caller(1002))
            #expect(String(decoding: opened.body, as: UTF8.self) == marker + "-" + mode)
            ids.append(sent.messageID)
        }
        _ = try? await broker.decrypt(token: mallory, messageID: ids[0], caller: caller(1003))
        _ = try? await broker.login(username: "alice", password: "wrong", caller: caller(1003))
        await broker.close()

        let store = try EventStore(directory: directory.appending("log"), mode: .readOnly)
        let events = try store.head().position
        let (run, finding) = try await exportAndRead(directory.path)
        #expect(finding.count == Int(events))
        #expect(finding.dense)
        #expect(finding.notCanonical.isEmpty)
        #expect(finding.types["message_sent"] == 3 && finding.types["message_decrypted"] == 3)
        #expect(finding.types["access_denied"] == 1 && finding.types["key_exchange_completed"] == 1)
        // The marker is in no line, neither as text nor as hex; the ids and names are (the check can fail).
        let text = run.text
        #expect(!text.contains(marker))
        #expect(!text.contains(HexDigits.encode(Data(marker.utf8)).prefix(40)))
        #expect(!text.lowercased().contains("marker"))
        #expect(ids.allSatisfy { text.contains("\"messageId\":\"\($0)\"") })
        #expect(text.contains("\"resourceId\":\"\(ids[0])\""))
        // Passwords never appear either; their hashes do.
        #expect(!text.contains("alice-password") && text.contains("$argon2id$"))
    }

    @Test func hundredThousandEventsExportAndParse() async throws {
        let generated = try await GeneratedLog.get()
        let (_, finding) = try await exportAndRead(generated.dataDirectory)
        #expect(finding.count == GeneratedLog.eventCount)
        #expect(finding.dense)
        #expect(finding.notCanonical.isEmpty)
        #expect(finding.types.count == EventType.allCases.count)
        // Filters on the command line: the same lines as the library's query.
        var query = EventQuery()
        query.actor = generated.summary.users[11]
        query.types = [.messageSent, .loginFailed]
        let expected = try generated.log.events(matching: query).map(\.position)
        let filtered = try await runQSM([
            "log", "export", "--data", generated.dataDirectory, "--actor", query.actor!, "--type", "message_sent,login_failed",
        ])
        let positions = try filtered.lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["position"] as? Int
        }
        #expect(positions.map { UInt64($0 ?? 0) } == expected)
        #expect(!expected.isEmpty)
        // Replay prints one line per event of the same selection.
        let replay = try await runQSM([
            "log", "replay", "--data", generated.dataDirectory, "--actor", query.actor!, "--type", "message_sent",
            "--type", "login_failed",
        ])
        #expect(replay.status == 0 && replay.lines.count == expected.count)
        #expect(replay.lines.first?.contains(query.actor!) == true)
    }

    /// Every field SwiftProtobuf's JSON encoder writes for a body (set fields only), the export writes
    /// under the same name, with the same enum names and strings: a field added to a schema but not
    /// to the export fails here.
    @Test func exportNamesEveryFieldAsTheProtobufJSONMapping() throws {
        var generator = SeededGenerator(seed: 3)
        var bodies = SampleEvents.allBodies(using: &generator)
        for body in bodies where body.type == .messageSent {
            if case .messageSent(var sent) = body {
                sent.nonce = Data([1, 2, 3])
                sent.blockCounter = 9
                sent.encapsulatedKey = Data([4, 5])
                bodies.append(.messageSent(sent))
            }
        }
        for body in bodies {
            var event = QSMEvent()
            event.position = 5
            event.type = body.type.rawValue
            event.body = body
            var json = CanonicalJSON()
            EventJSON.append(event, to: &json)
            let ours = try #require(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any])
            let theirs = try #require(
                try JSONSerialization.jsonObject(with: Data(try body.message.jsonString().utf8)) as? [String: Any])
            compare(theirs, try #require(ours["body"] as? [String: Any]), path: body.type.name)
        }
    }

    private func compare(_ theirs: [String: Any], _ ours: [String: Any], path: String) {
        for (key, value) in theirs {
            guard let mine = ours[key] else {
                Issue.record("\(path).\(key) is missing from the export")
                continue
            }
            if let nested = value as? [String: Any] {
                compare(nested, mine as? [String: Any] ?? [:], path: path + "." + key)
            } else if let list = value as? [[String: Any]], let myList = mine as? [[String: Any]] {
                #expect(list.count == myList.count)
                for (a, b) in zip(list, myList) { compare(a, b, path: path + "." + key) }
            } else if let text = value as? String, let myText = mine as? String, !key.hasSuffix("Us"),
                      Data(base64Encoded: text).map({ HexDigits.encode($0) }) != myText
            {
                // Strings and enum names equal; bytes are base64 there and hex here.
                #expect(text == myText, "\(path).\(key)")
            }
        }
    }
}
