import Broker
import Foundation
import Testing

/// Message ids are UUIDv7: time first, so the message index's rows of one commit sit together.
@Suite struct MessageIDTests {
    @Test func idsCarryTheSendTimeAndSortInTheOrderTheyWereSent() async throws {
        let test = try TestBroker()
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        _ = try await test.broker.establishKey(token: alice, peer: "bob", caller: Peers.alice)
        var ids: [String] = []
        for _ in 0..<3 {
            ids.append(try await test.broker.send(token: alice, to: "bob", body: Data("hi".utf8), mode: "aes", caller: Peers.alice).messageID)
            test.clock.advance(seconds: 0.002)
        }
        // Two sends in the same millisecond still get different ids.
        ids.append(try await test.broker.send(token: alice, to: "bob", body: Data("hi".utf8), mode: "aes", caller: Peers.alice).messageID)
        #expect(Set(ids).count == 4)
        #expect(ids.dropLast().elementsEqual(ids.dropLast().sorted()))
        for id in ids {
            let bytes = try #require(Data(hex: id))
            #expect(bytes.count == 16)
            #expect(bytes[6] >> 4 == 7, "version 7: \(id)")
            #expect(bytes[8] >> 6 == 0b10, "RFC 9562 variant: \(id)")
        }
        let milliseconds = try #require(Data(hex: ids[0])).prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(milliseconds == UInt64(1_800_000_000_000_000 / 1000))
    }
}
