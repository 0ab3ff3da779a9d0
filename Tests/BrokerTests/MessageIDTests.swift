@testable import Broker
import EventLog
import Foundation
import QSMTesting
import Testing

/// Message ids start random (short prefixes tell them apart) and end with the time they were sent; the
/// message index keys them time first, so one commit's rows sit together.
@Suite struct MessageIDTests {
    @Test func idsEndWithTheSendTimeAndTheIndexKeysThemInSendingOrder() async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        _ = try await test.broker.establishKey(token: alice, peer: "bob", caller: Peers.alice)
        var ids: [Data] = []
        for _ in 0..<6 {
            let sent = try await test.broker.send(token: alice, to: "bob", body: Data("hi".utf8), mode: "aes", caller: Peers.alice)
            ids.append(try #require(Data(hex: sent.messageID)))
            test.clock.advance(seconds: 0.002)
        }
        // Two sends in the same millisecond still get different ids.
        let again = try await test.broker.send(token: alice, to: "bob", body: Data("hi".utf8), mode: "aes", caller: Peers.alice)
        ids.append(try #require(Data(hex: again.messageID)))
        #expect(Set(ids).count == 7)
        let milliseconds = ids[0].suffix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(milliseconds == UInt64(1_800_000_000_000_000 / 1000))
        // The random part leads: ids made 2 ms apart differ in their first five bytes, which a time
        // first would share.
        #expect(Set(ids.prefix(6).map { $0.prefix(5) }).count > 1)

        let keys = ids.prefix(6).map(MessageTables.indexKey(of:))
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
        await test.broker.close()
        let log = try EventStore(directory: test.directory.path + "/log", mode: .readOnly, options: {
            var options = EventStore.Options()
            options.tables = MessageTables.names
            options.tablesLayout = MessageTables.layout
            return options
        }())
        defer { log.close() }
        for id in ids {
            #expect(try log.readTables { try MessageTables.location(of: id, in: $0) }?.recipient == "bob")
        }
    }

    @Test func anIdMadeBeforeIsFoundTurnedRound() {
        let random = Data((0..<16).map { UInt8($0 * 7 + 3) })
        #expect(MessageTables.indexKey(of: random) == Array(random.suffix(6)) + Array(random.prefix(10)))
    }
}
