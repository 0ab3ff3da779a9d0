import Broker
import EventLog
import Foundation
import QSMEvents
import Testing

/// Growing penalties: lockouts and send throttles double with each repeat offence up to
/// `maxLockoutSeconds`, and an offence older than `offenceMemorySeconds` no longer counts.
@Suite("Intrusion detection: lockout cap, offence memory, throttle doubling")
struct IDSLockoutTests {
    /// Brute force only: the source-wide rules would lock the source too and blur which lock is which.
    private func rules(_ edit: (inout IDSRules) -> Void) -> IDSRules {
        var rules = IDSRules()
        rules.passwordSpraying = .init(count: 0, windowSeconds: 600)
        rules.sourceFailures = .init(count: 0, windowSeconds: 600)
        edit(&rules)
        return rules
    }

    /// Five wrong passwords for alice from carol; the lockout's length in seconds, then waits it out.
    private func bruteForce(_ test: TestBroker) async throws -> Int64 {
        for _ in 0..<5 { _ = try? await test.broker.login(username: "alice", password: "wrong-password", caller: Peers.carol) }
        let events = try await test.broker.readEvents(from: 1, limit: 10_000, caller: Peers.admin)
        let lock = try #require(events.compactMap { event -> QSMAccountLocked? in
            if case .accountLocked(let locked) = event.body { locked } else { nil }
        }.last)
        let seconds = (lock.untilUs - test.clock.micros) / 1_000_000
        test.clock.advance(seconds: Double(seconds) + 1)
        return seconds
    }

    @Test func lockoutsDoubleUpToTheCap() async throws {
        let test = try TestBroker(rules: rules {
            $0.lockoutSeconds = 300
            $0.maxLockoutSeconds = 1000
        })
        _ = try await test.broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        var lengths: [Int64] = []
        for _ in 0..<4 { lengths.append(try await bruteForce(test)) }
        #expect(lengths == [300, 600, 1000, 1000])
        await test.broker.close()
    }

    @Test func anOffenceOlderThanTheMemoryNoLongerGrowsTheLockout() async throws {
        let test = try TestBroker(rules: rules {
            $0.lockoutSeconds = 300
            $0.offenceMemorySeconds = 3600
        })
        _ = try await test.broker.register(username: "alice", password: "alice-password", caller: Peers.alice)
        var lengths = [try await bruteForce(test), try await bruteForce(test)]
        // The last offence ended its 600 s lock just now; an hour after it, it is forgotten.
        test.clock.advance(seconds: 3600)
        lengths.append(try await bruteForce(test))
        #expect(lengths == [300, 600, 300])
        await test.broker.close()
    }

    @Test func sendThrottlesDoubleUpToTheCapAndAreForgottenWithTheOffence() async throws {
        let test = try TestBroker(rules: rules {
            $0.sendFlood = .init(count: 3, windowSeconds: 60)
            $0.throttleSeconds = 60
            $0.maxLockoutSeconds = 200
            $0.offenceMemorySeconds = 3600
        })
        let alice = try await test.broker.enrol("alice", caller: Peers.alice)
        _ = try await test.broker.enrol("bob", caller: Peers.bob)
        var sent = 0
        /// Floods, reads the throttle's length from the refusal of one more send, and waits it out.
        func flood() async throws -> Int64 {
            for _ in 0..<3 {
                sent += 1
                _ = try await test.broker.send(token: alice, to: "bob", body: Data("m\(sent)".utf8), mode: "pqc", caller: Peers.alice)
            }
            let refused = await outcome {
                try await test.broker.send(token: alice, to: "bob", body: Data("one more".utf8), mode: "pqc", caller: Peers.alice)
            }
            guard case .failure(BrokerError.throttled(let until)) = refused else {
                Issue.record("the send after a flood was not throttled: \(refused)")
                return 0
            }
            let seconds = (until - test.clock.micros) / 1_000_000
            test.clock.advance(seconds: Double(seconds) + 1)
            return seconds
        }
        var lengths: [Int64] = []
        for _ in 0..<3 { lengths.append(try await flood()) }
        test.clock.advance(seconds: 3600)
        lengths.append(try await flood())
        #expect(lengths == [60, 120, 200, 60])
        await test.broker.close()
    }
}
