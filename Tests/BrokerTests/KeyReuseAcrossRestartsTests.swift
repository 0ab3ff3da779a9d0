import Broker
import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Testing

/// The broker itself, across real restarts (close and open on the same directory): no aes (block,
/// counter) pair and no otp pool bit is used twice, and every message still opens. QSMCryptoTests'
/// AESTests check the same on the key pool alone.
@Suite("Key material across restarts")
struct KeyReuseAcrossRestartsTests {
    @Test func noAESKeyNoncePairAndNoOTPBitIsUsedTwiceAcrossRestarts() async throws {
        let setup = try TestBroker()
        var configuration = setup.configuration
        await setup.broker.close()
        configuration.aesBlockMessages = 3  // several blocks per run, a rotation across a restart
        var broker = try Broker(configuration: configuration)
        _ = try await broker.enrol("bob", caller: Peers.bob)
        _ = try await broker.enrol("alice", caller: Peers.alice)
        var bodies: [String: String] = [:]
        for round in 0..<4 {
            let alice = try await broker.login(username: "alice", password: "alice-password", caller: Peers.alice).token
            for index in 0..<(2 + round * 2) {
                for mode in ["aes", "otp"] {
                    let body = "round \(round) message \(index) \(mode)"
                    let sent = try await broker.send(token: alice, to: "bob", body: Data(body.utf8), mode: mode, caller: Peers.alice)
                    bodies[sent.messageID] = body
                }
            }
            await broker.close()
            broker = try Broker(configuration: configuration)
        }
        var aesUses = Set<String>()
        var otpBits: [ClosedRange<UInt64>] = []
        var aesBlockBits: [ClosedRange<UInt64>] = []
        try broker.log.forEach(from: 1) { stored in
            guard case .messageSent(let sent)? = try QSMEvent(stored).body else { return true }
            let ranges: [ClosedRange<UInt64>] = sent.poolRanges.map { range in range.start...(range.start + range.length - 1) }
            if sent.mode == .aes {
                #expect(aesUses.insert("\(ranges)#\(sent.blockCounter)").inserted, "aes block \(ranges) counter \(sent.blockCounter) again")
                if !aesBlockBits.contains(ranges[0]) { aesBlockBits += ranges }
            } else {
                otpBits += ranges
            }
            return true
        }
        let sentPerMode = (0..<4).reduce(0) { $0 + 2 + $1 * 2 }
        #expect(aesUses.count == sentPerMode)
        let all = (otpBits + aesBlockBits).sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(all, all.dropFirst()) { #expect(a.upperBound < b.lowerBound, "pool bits \(a) and \(b) overlap") }
        let bob = try await broker.login(username: "bob", password: "bob-password", caller: Peers.bob).token
        for (id, body) in bodies {
            let opened = try await broker.decrypt(token: bob, messageID: id, caller: Peers.bob)
            #expect(String(decoding: opened.body, as: UTF8.self) == body)
        }
        await broker.close()
    }
}
