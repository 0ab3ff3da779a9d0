import Foundation
import QSMCrypto

/// What is left of the BB84 key a user shares with one peer: the bits otp and aes can still use, and how
/// many keys were made for the pair. Read-only: nothing is recorded.
public struct KeyPoolStatus: Sendable, Equatable {
    /// The other user of the pair.
    public let peer: String
    /// Unused bits of the pair's pool (an otp message costs its size plus 32 bytes; an aes block 256 bits).
    public let availableBits: UInt64
    /// Keys (BB84 exchanges) made for the pair since the log began.
    public let keys: Int
}

extension Broker {
    /// The session user's key pools, one per peer they share key material with, by peer name.
    public func keyStatus(token: String, caller: Caller) async throws(BrokerError) -> [KeyPoolStatus] {
        try await submit(KeyStatusCommand(token: PresentedToken(token)), caller: caller).get()
    }
}

/// KeyStatus: the key material left in each of the session user's pools.
struct KeyStatusCommand: BrokerCommand {
    let token: PresentedToken

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<[KeyPoolStatus], BrokerError> {
        state.authenticate(token, method: "KeyStatus", decision: &decision).map { user in
            state.keyPools.pools.values.compactMap { pair -> KeyPoolStatus? in
                let users = pair.pool.pair
                guard users.first == user || users.second == user else { return nil }
                return KeyPoolStatus(
                    peer: users.first == user ? users.second : users.first, availableBits: pair.pool.availableBits,
                    keys: pair.pool.segments.count)
            }.sorted { $0.peer < $1.peer }
        }
    }
}
