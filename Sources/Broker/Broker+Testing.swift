public import Foundation
import QSMCrypto

extension Broker {
    /// The unwrapped bytes of every pool key, for tests that prove no raw key is on disk. Reading them
    /// needs the master key, which the broker holds anyway; nothing outside tests calls this.
    public func rawPoolKeysForTesting() throws -> [Data] {
        let segments = read { state in state.keyPools.pools.values.flatMap { $0.pool.segments } }
        return try segments.map { segment in try crypto.segmentKey(segment).withUnsafeBytes { Data($0) } }
    }
}
