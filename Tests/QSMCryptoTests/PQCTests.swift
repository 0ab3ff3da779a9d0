import Foundation
import QSMCrypto
import Testing

@Suite struct PQCTests {
    @Test func roundTripAndFailures() throws {
        let bob = try PQCKeys.register(username: "bob", password: "bob's pw", hasher: cheapHasher)
        let carol = try PQCKeys.register(username: "carol", password: "carol's pw", hasher: cheapHasher)
        #expect(bob.publicKey.count == 1216)
        #expect(bob.wrappedPrivateKey.keyID == "password:bob")
        #expect(bob.wrappedPrivateKey.kdf.hasPrefix("$argon2id$v=19$m=8,t=1,p=1$"))
        let bobKey = try PQCKeys.unwrap(bob.wrappedPrivateKey, username: "bob", password: "bob's pw", hasher: cheapHasher)
        #expect(bobKey.publicKey.rawRepresentation == bob.publicKey)
        let carolKey = try PQCKeys.unwrap(carol.wrappedPrivateKey, username: "carol", password: "carol's pw", hasher: cheapHasher)
        let recipient = try PQCPublicKey(rawRepresentation: bob.publicKey)

        for size in [0, 1, 256, 65_536] {
            let message = Data((0..<size).map { UInt8(truncatingIfNeeded: $0) })
            let sealed = try PQCCipher.seal(message, context: context(), to: recipient)
            #expect(sealed.encapsulatedKey.count == 1120)
            #expect(try PQCCipher.open(sealed, context: context(), with: bobKey) == message)
        }
        let sealed = try PQCCipher.seal(Data("for bob only".utf8), context: context(), to: recipient)
        // The wrong receiver.
        #expect(throws: QSMCryptoError.authenticationFailed) { try PQCCipher.open(sealed, context: context(), with: carolKey) }
        // Each associated datum changed.
        for other in [context(2), context(sender: "mallory"), context(recipient: "carol")] {
            #expect(throws: QSMCryptoError.authenticationFailed) { try PQCCipher.open(sealed, context: other, with: bobKey) }
        }
        // A flipped bit in the ciphertext or the encapsulated key.
        for index in [0, sealed.ciphertext.count / 2, sealed.ciphertext.count - 1] {
            var altered = sealed
            altered.ciphertext[index] ^= 0x01
            #expect(throws: QSMCryptoError.authenticationFailed) { try PQCCipher.open(altered, context: context(), with: bobKey) }
        }
        for index in [0, 600, 1_119] {
            var altered = sealed
            altered.encapsulatedKey[index] ^= 0x80
            #expect(throws: QSMCryptoError.authenticationFailed) { try PQCCipher.open(altered, context: context(), with: bobKey) }
        }
        // Malformed lengths are typed as such.
        for bad in [
            PQCSealed(encapsulatedKey: sealed.encapsulatedKey.dropLast(), ciphertext: sealed.ciphertext),
            PQCSealed(encapsulatedKey: sealed.encapsulatedKey, ciphertext: sealed.ciphertext.prefix(15)),
        ] {
            #expect {
                try PQCCipher.open(bad, context: context(), with: bobKey)
            } throws: { error in
                if case .malformedCiphertext = error as? QSMCryptoError { return true }
                return false
            }
        }
        #expect(throws: QSMCryptoError.invalidPublicKey) { try PQCPublicKey(rawRepresentation: bob.publicKey.dropLast()) }
    }

    @Test func privateKeyOpensOnlyUnderItsPasswordAndRewrapsOnChange() throws {
        let bob = try PQCKeys.register(username: "bob", password: "old password", hasher: cheapHasher)
        #expect(throws: QSMCryptoError.unwrapFailed(keyID: "password:bob")) {
            try PQCKeys.unwrap(bob.wrappedPrivateKey, username: "bob", password: "other password", hasher: cheapHasher)
        }
        // Another user's name: refused before any key derivation.
        #expect(throws: QSMCryptoError.wrongWrappingKey(expected: "password:alice", found: "password:bob")) {
            try PQCKeys.unwrap(bob.wrappedPrivateKey, username: "alice", password: "old password", hasher: cheapHasher)
        }
        let recipient = try PQCPublicKey(rawRepresentation: bob.publicKey)
        let before = try PQCCipher.seal(Data("sent before the change".utf8), context: context(), to: recipient)

        let stronger = try PasswordHasher(cost: Argon2Cost(memoryKiB: 32, iterations: 2), permitCostBelowFloorForTests: true)
        let rewrapped = try PQCKeys.rewrap(
            bob.wrappedPrivateKey, username: "bob", oldPassword: "old password", newPassword: "new password", hasher: stronger)
        #expect(rewrapped.kdf.hasPrefix("$argon2id$v=19$m=32,t=2,p=1$"))
        #expect(rewrapped.kdf != bob.wrappedPrivateKey.kdf)  // a fresh salt
        #expect(throws: QSMCryptoError.unwrapFailed(keyID: "password:bob")) {
            try PQCKeys.unwrap(rewrapped, username: "bob", password: "old password", hasher: cheapHasher)
        }
        #expect(throws: QSMCryptoError.self) {
            try PQCKeys.rewrap(bob.wrappedPrivateKey, username: "bob", oldPassword: "wrong", newPassword: "x", hasher: cheapHasher)
        }
        // The hasher's own cost does not matter for unwrapping: the KDF string carries it.
        let key = try PQCKeys.unwrap(rewrapped, username: "bob", password: "new password", hasher: cheapHasher)
        #expect(key.publicKey.rawRepresentation == bob.publicKey)
        #expect(try PQCCipher.open(before, context: context(), with: key) == Data("sent before the change".utf8))

        // A malformed KDF string is typed.
        var malformed = rewrapped
        malformed.kdf = "$argon2id$v=19$m=32,t=2$AAAA"
        #expect {
            try PQCKeys.unwrap(malformed, username: "bob", password: "new password", hasher: cheapHasher)
        } throws: { error in
            if case .malformedPHCString = error as? QSMCryptoError { return true }
            return false
        }
    }
}

/// The sender copy of a pqc message, and a session's private key sealed under its token (issue 18).
@Suite struct PQCSenderCopyAndSessionSealingTests {
    @Test func theSenderCopyOpensOnlyAsTheSenderCopyWithTheSendersKey() throws {
        let alice = try PQCKeys.register(username: "alice", password: "alice's pw", hasher: cheapHasher)
        let aliceKey = try PQCKeys.unwrap(alice.wrappedPrivateKey, username: "alice", password: "alice's pw", hasher: cheapHasher)
        let copy = try PQCCipher.seal(
            Data("sent".utf8), context: context(), to: PQCPublicKey(rawRepresentation: alice.publicKey), copy: .sender)
        #expect(try PQCCipher.open(copy, context: context(), with: aliceKey, copy: .sender) == Data("sent".utf8))
        // Domain separation: the same key does not open the copy as a recipient's copy (another HPKE info).
        #expect(throws: QSMCryptoError.authenticationFailed) { try PQCCipher.open(copy, context: context(), with: aliceKey) }
        #expect(throws: QSMCryptoError.authenticationFailed) {
            try PQCCipher.open(copy, context: context(sender: "mallory"), with: aliceKey, copy: .sender)
        }
    }

    @Test func aSessionsSealedKeyOpensOnlyWithItsTokenAndUser() throws {
        let alice = try PQCKeys.register(username: "alice", password: "alice's pw", hasher: cheapHasher)
        let key = try PQCKeys.unwrap(alice.wrappedPrivateKey, username: "alice", password: "alice's pw", hasher: cheapHasher)
        let token = SessionToken()
        let sealed = try SessionKeySealing.seal(key, token: token, username: "alice")
        #expect(sealed.kdf == SessionKeySealing.kdfDescription)
        #expect(sealed.sealed.count == 32 + 16)
        #expect(sealed.sealed.range(of: key.seedForTests) == nil)
        let reopened = try SessionKeySealing.open(
            sealed, token: try SessionToken(transportEncoding: token.transportEncoding), username: "alice")
        #expect(reopened.publicKey.rawRepresentation == alice.publicKey)
        // Another session's token is another key id; a relabelled seal fails the tag; another user too.
        let other = SessionToken()
        #expect {
            try SessionKeySealing.open(sealed, token: other, username: "alice")
        } throws: { error in
            if case .wrongWrappingKey = error as? QSMCryptoError { return true }
            return false
        }
        var relabelled = sealed
        relabelled.keyID = "session:" + other.sessionID.map { String(format: "%02x", $0) }.joined()
        #expect(throws: QSMCryptoError.unwrapFailed(keyID: relabelled.keyID)) {
            try SessionKeySealing.open(relabelled, token: other, username: "alice")
        }
        #expect(throws: QSMCryptoError.unwrapFailed(keyID: sealed.keyID)) {
            try SessionKeySealing.open(sealed, token: token, username: "mallory")
        }
    }
}
