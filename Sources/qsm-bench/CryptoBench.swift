import Foundation
import QSMCrypto

/// The `crypto` suite: Argon2id at the default cost, then seal and open per second in modes otp, aes and
/// pqc for 256-byte and 64 KiB messages, each on one core (one thread). Option `--seconds S` sets the time
/// spent on each figure (default 1); `--only otp|aes|pqc` measures one mode at 256 bytes (for profiling, no
/// summary line). Every seal includes what the broker would do per message: otp reserves
/// pool bits and copies them out of an unwrapped segment; aes takes a nonce (and, every 1,000 messages under
/// the default policy, a new block with its HKDF); pqc parses nothing (the public key is parsed once).
enum CryptoBench {
    static func run(_ options: [String]) throws {
        var seconds = 1.0
        if let index = options.firstIndex(of: "--seconds"), index + 1 < options.count, let value = Double(options[index + 1]) {
            seconds = value
        }
        var only: String? = nil
        if let index = options.firstIndex(of: "--only"), index + 1 < options.count { only = options[index + 1] }
        let time = { (mode: String) in only == nil || only == mode ? seconds : 0.01 }
        let hasher = try PasswordHasher()
        let argon = only != nil ? 0 : try rate(seconds: max(seconds, 2), minimum: 5) { _ = try hasher.hash("correct horse battery staple") }
        print(String(format: "argon2id: %.1f hashes/s (default cost %@, one thread)", argon, "\(hasher.cost)"))

        let master = MasterKey.ephemeral()
        let context = MessageContext(messageID: Data(repeating: 7, count: 16), sender: "alice", recipient: "bob")
        var results: [String: Double] = [:]
        for size in only == nil ? [256, 65_536] : [256] {
            let label = size == 256 ? "256" : "64k"
            let message = Data((0..<size).map { UInt8(truncatingIfNeeded: $0) })

            // otp: a 16 MiB segment, its pool restarted (benchmark only) when used up.
            let keys = SegmentKeyCache(masterKey: master)
            var fresh = KeyPool(pair: UserPair("alice", "bob"))
            try fresh.append(fresh.makeSegment(
                keyID: "bench", key: SecretBytes(randomCount: 16 << 20), bitCount: 16 << 23, masterKey: master))
            var pool = fresh
            let cost = KeyPool.otpCost(messageByteCount: size)
            var last: (OTPSealed, [PoolRange])? = nil
            results["otp-seal-\(label)"] = try rate(seconds: time("otp")) {
                if pool.availableBits < cost { pool = fresh }
                let reservation = try pool.reserveOTP(messageByteCount: size)
                let ranges = reservation.ranges
                last = (try OTPCipher.seal(message, context: context, key: pool.takeOTPKey(reservation, keys: keys)), ranges)
            }
            let (otpSealed, otpRanges) = last!
            results["otp-open-\(label)"] = try rate(seconds: time("otp")) {
                _ = try OTPCipher.open(otpSealed, context: context, key: pool.otpOpeningKey(ranges: otpRanges, keys: keys))
            }

            // aes: blocks rotated under the default policy (1,000 messages), counters from the block.
            var aesPool = fresh
            var block: AESBlock? = nil
            var blockKey: AESBlockKey? = nil
            var lastAES: AESSealed? = nil
            results["aes-seal-\(label)"] = try rate(seconds: time("aes")) {
                if block == nil || block!.needsRotation(atMicroseconds: 0, policy: .default) {
                    if aesPool.availableBits < 256 { aesPool = fresh }
                    let reservation = try aesPool.reserveAESBlock()
                    let taken = try aesPool.takeAESBlock(reservation, startedAtMicroseconds: 0, keys: keys)
                    (block, blockKey) = (taken.block, taken.key)
                }
                let nonce = try block!.takeNonce(atMicroseconds: 0, policy: .default)
                lastAES = try AESCipher.seal(message, context: context, key: blockKey!, nonce: nonce)
            }
            let aesSealed = lastAES!
            let aesKey = blockKey!
            results["aes-open-\(label)"] = try rate(seconds: time("aes")) {
                _ = try AESCipher.open(aesSealed, context: context, key: aesKey)
            }

            // pqc: X-Wing HPKE to bob's public key; bob's private key unwrapped once, as at login.
            let cheap = try PasswordHasher(cost: .cheapForTestsOnly, permitCostBelowFloorForTests: true)
            let bob = try PQCKeys.register(username: "bob", password: "pw", hasher: cheap)
            let bobPublic = try PQCPublicKey(rawRepresentation: bob.publicKey)
            let bobPrivate = try PQCKeys.unwrap(bob.wrappedPrivateKey, username: "bob", password: "pw", hasher: cheap)
            var lastPQC: PQCSealed? = nil
            results["pqc-seal-\(label)"] = try rate(seconds: time("pqc")) {
                lastPQC = try PQCCipher.seal(message, context: context, to: bobPublic)
            }
            let pqcSealed = lastPQC!
            results["pqc-open-\(label)"] = try rate(seconds: time("pqc")) {
                _ = try PQCCipher.open(pqcSealed, context: context, with: bobPrivate)
            }
            for mode in ["otp", "aes", "pqc"] {
                let seal = results["\(mode)-seal-\(label)"]!
                let open = results["\(mode)-open-\(label)"]!
                print(String(
                    format: "%@-%@: seal %.0f ops/s (%.1f MB/s), open %.0f ops/s (%.1f MB/s)", mode, label, seal,
                    seal * Double(size) / 1e6, open, open * Double(size) / 1e6))
            }
        }
        if only != nil { return }
        let signer = try BrokerSigningKey.ephemeral()
        let checkpoint = Data(repeating: 1, count: 40)
        let sign = try rate(seconds: seconds) { _ = try signer.signature(for: checkpoint) }
        print(String(format: "ml-dsa-65: sign %.0f ops/s", sign))
        print(String(
            format: "crypto: argon2id %.1f otp-seal-256 %.0f aes-seal-256 %.0f pqc-seal-256 %.0f pqc-open-256 %.0f",
            argon, results["otp-seal-256"]!, results["aes-seal-256"]!, results["pqc-seal-256"]!,
            results["pqc-open-256"]!))
    }

    /// Calls `body` repeatedly for about `seconds` (and at least `minimum` times); operations per second.
    static func rate(seconds: Double, minimum: Int = 10, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        var batch = 1
        while true {
            for _ in 0..<batch { try body() }
            count += batch
            let elapsed = start.duration(to: clock.now)
            let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if secondsElapsed >= seconds && count >= minimum { return Double(count) / secondsElapsed }
            batch = min(batch * 2, 4096)
        }
    }
}
