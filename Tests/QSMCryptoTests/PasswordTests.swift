import Foundation
import QSMCrypto
import Testing

@Suite struct PasswordTests {
    // Argon2id vectors of the reference implementation (phc-winner-argon2 src/test.c, version 0x13):
    // password "password", salt "somesalt".
    static let referenceCheap = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
    static let reference64MiB = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"

    @Test func knownAnswerThroughOurWrapper() throws {
        for vector in [Self.referenceCheap, Self.reference64MiB] {
            #expect(try cheapHasher.verify("password", against: vector) == .valid(needsRehash: false))
            #expect(try cheapHasher.verify("passwore", against: vector) == .invalid)
            #expect(try cheapHasher.verify("", against: vector) == .invalid)
        }
        let parsed = try PHCString(parsing: Self.reference64MiB)
        #expect(parsed.cost == Argon2Cost(memoryKiB: 65536, iterations: 2, parallelism: 1))
        #expect(parsed.salt == Data("somesalt".utf8))
        #expect(hexString(parsed.hash!) == "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7")
        #expect(parsed.text == Self.reference64MiB)
        // One changed bit in the stored hash and the right password no longer verifies.
        var altered = parsed
        altered.hash![31] ^= 1
        #expect(try cheapHasher.verify("password", against: altered.text) == .invalid)
    }

    @Test func defaultCostIsTheOWASPFloor() throws {
        let hasher = try PasswordHasher()
        #expect(hasher.cost == Argon2Cost(memoryKiB: 19456, iterations: 2, parallelism: 1))
        let stored = try hasher.hash("correct horse battery staple")
        #expect(stored.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(try hasher.verify("correct horse battery staple", against: stored) == .valid(needsRehash: false))
    }

    @Test func roundTripWithFreshSalts() throws {
        let first = try cheapHasher.hash("hunter2")
        let second = try cheapHasher.hash("hunter2")
        #expect(first != second)
        #expect(try PHCString(parsing: first).salt.count == 16)
        #expect(try PHCString(parsing: first).hash?.count == 32)
        #expect(!first.contains("hunter2"))
        for stored in [first, second] {
            #expect(try cheapHasher.verify("hunter2", against: stored) == .valid(needsRehash: false))
            #expect(try cheapHasher.verify("hunter3", against: stored) == .invalid)
            #expect(try cheapHasher.verify("hunter2 ", against: stored) == .invalid)
        }
        // Unicode and empty passwords are bytes like any other.
        let unicode = try cheapHasher.hash("pässwörd🔑")
        #expect(try cheapHasher.verify("pässwörd🔑", against: unicode) == .valid(needsRehash: false))
        #expect(try cheapHasher.verify("passwörd🔑", against: unicode) == .invalid)
        let empty = try cheapHasher.hash("")
        #expect(try cheapHasher.verify("", against: empty) == .valid(needsRehash: false))
        #expect(try cheapHasher.verify("\0", against: empty) == .invalid)
    }

    @Test func rehashOnLoginWhenStoredCostIsBelowConfigured() throws {
        let stored = try cheapHasher.hash("pw")
        let stronger = try PasswordHasher(
            cost: Argon2Cost(memoryKiB: 64, iterations: 2), permitCostBelowFloorForTests: true)
        #expect(try stronger.verify("pw", against: stored) == .valid(needsRehash: true))
        #expect(try stronger.verify("wrong", against: stored) == .invalid)
        let rehashed = try stronger.hash("pw")
        #expect(try stronger.verify("pw", against: rehashed) == .valid(needsRehash: false))
        // The floor itself asks to rehash anything cheaper, including more memory but fewer passes.
        let floor = try PasswordHasher()
        #expect(floor.needsRehash(try PHCString(parsing: "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")))
        #expect(!floor.needsRehash(try PHCString(parsing: Self.reference64MiB)))
    }

    @Test func costBelowFloorIsRefusedUnlessExplicitlyEnabled() throws {
        #expect(throws: QSMCryptoError.costBelowFloor(memoryKiB: 8, iterations: 1, parallelism: 1)) {
            try PasswordHasher(cost: .cheapForTestsOnly)
        }
        #expect(throws: QSMCryptoError.self) { try PasswordHasher(cost: Argon2Cost(memoryKiB: 19456, iterations: 1)) }
        #expect(throws: QSMCryptoError.self) { try PasswordHasher(cost: Argon2Cost(memoryKiB: 19455, iterations: 2)) }
        #expect(throws: QSMCryptoError.self) {
            try PasswordHasher(cost: Argon2Cost(memoryKiB: 19456, iterations: 2, parallelism: 4))
        }
        #expect(throws: QSMCryptoError.self) {
            try PasswordHasher(cost: Argon2Cost(memoryKiB: 4, iterations: 1), permitCostBelowFloorForTests: true)
        }
        _ = try PasswordHasher(cost: Argon2Cost(memoryKiB: 65536, iterations: 3))
    }

    static let malformed: [String] = [
        "",
        "argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$t=2,m=256,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=0256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=-256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZX$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNh*HQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQ",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4$extra",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" + String(repeating: "A", count: 600),
    ]

    @Test(arguments: malformed)
    func malformedPHCStringIsATypedErrorNotAMismatch(text: String) {
        #expect {
            try cheapHasher.verify("password", against: text)
        } throws: { error in
            guard case .malformedPHCString(let reason) = error as? QSMCryptoError else { return false }
            // The message names the fault without quoting the stored hash.
            return !reason.contains("nf65EOgLrQ") && !"\(error)".contains("nf65EOgLrQ")
        }
    }
}
