import Broker
import Foundation
import Synchronization
import Testing

/// An unknown user's login hashes a dummy password (so it takes as long as a wrong password) where real
/// verifications run, on the crypto queue, not on Swift's cooperative threads that every other call
/// needs (security review, issue 16 item 9: fifty connections of unknown-user logins pushed Inbox to
/// 0.7-2 s).
@Suite("Logins: unknown users")
struct UnknownUserLoginTests {
    /// Twenty-five unknown-user logins per cooperative thread (50 here, as in the review) are started, then
    /// an Inbox call in a task of its own. Hashing on the cooperative threads, the logins held all of them
    /// and Inbox answered after 49 of 50; on the crypto queue they wait there and Inbox goes first.
    @Test func unknownUserLoginsLeaveTheCooperativeThreadsFree() async throws {
        let test = try TestBroker {
            // The broker's real cost: the hashing must take long enough to hold a thread.
            $0.passwordMemoryKiB = 19 * 1024
            $0.passwordIterations = 2
            $0.allowCheapPasswordHashingForTests = false
            $0.rules.bruteForce.count = 0
            $0.rules.passwordSpraying.count = 0
        }
        let broker = test.broker
        let reader = try await broker.enrol("reader", caller: Peers.alice)
        let logins = 25 * ProcessInfo.processInfo.activeProcessorCount
        let done = SharedCounter()
        let inboxSawDone = SharedCounter(-1)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<logins {
                group.addTask {
                    _ = try? await broker.login(username: "nosuchuser\(index)", password: "wrong-password", caller: Peers.bob)
                    done.add()
                }
            }
            group.addTask {
                _ = try? await broker.inbox(token: reader, caller: Peers.alice)
                inboxSawDone.set(done.value)
            }
        }
        let before = inboxSawDone.value
        #expect(before >= 0 && before < logins / 2, "Inbox answered after \(before) of \(logins) unknown-user logins")
        await broker.close()
    }
}
