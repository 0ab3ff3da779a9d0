/// The cost parameters of Argon2id: memory in KiB, passes over it, and lanes.
///
/// libsodium computes one lane, so parallelism is always 1 here; memory and passes are configurable.
public struct Argon2Cost: Sendable, Hashable, CustomStringConvertible {
    /// Memory in KiB (`m` in a PHC string).
    public var memoryKiB: UInt32
    /// Passes over the memory (`t`).
    public var iterations: UInt32
    /// Lanes (`p`); only 1 is supported.
    public var parallelism: UInt32

    /// A cost; check it with ``PasswordHasher`` before use.
    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32 = 1) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// OWASP's minimum for Argon2id (m = 19 MiB, t = 2, p = 1): the default and the floor outside tests.
    public static let owaspMinimum = Argon2Cost(memoryKiB: 19 * 1024, iterations: 2, parallelism: 1)

    /// The cheapest cost libsodium accepts (8 KiB, one pass). For tests only: ``PasswordHasher`` refuses it
    /// unless the test exemption is given explicitly.
    public static let cheapForTestsOnly = Argon2Cost(memoryKiB: 8, iterations: 1, parallelism: 1)

    /// Whether this cost is at least `other` in both memory and passes.
    public func isAtLeast(_ other: Argon2Cost) -> Bool {
        memoryKiB >= other.memoryKiB && iterations >= other.iterations
    }

    /// `m=…,t=…,p=…` as in a PHC string.
    public var description: String { "m=\(memoryKiB),t=\(iterations),p=\(parallelism)" }

    /// libsodium's limits: memory in bytes and passes, or an error saying which bound is broken.
    func sodiumLimits() throws(QSMCryptoError) -> (opslimit: UInt64, memlimit: Int) {
        guard parallelism == 1 else {
            throw .unsupportedCost(reason: "parallelism \(parallelism); libsodium computes one lane (p=1)")
        }
        guard memoryKiB >= 8 else { throw .unsupportedCost(reason: "memory \(memoryKiB) KiB is below 8 KiB") }
        // 4 TiB would overflow nothing but is absurd; cap at 4 GiB so a hostile string cannot exhaust memory.
        guard memoryKiB <= 4 * 1024 * 1024 else {
            throw .unsupportedCost(reason: "memory \(memoryKiB) KiB is above 4 GiB")
        }
        guard iterations >= 1 else { throw .unsupportedCost(reason: "zero passes") }
        guard iterations <= 1024 else { throw .unsupportedCost(reason: "\(iterations) passes is above 1024") }
        return (UInt64(iterations), Int(memoryKiB) * 1024)
    }
}
