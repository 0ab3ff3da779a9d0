import Foundation
import QSMCrypto
import QSMTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// No secret appears in any error message or in the printed form of any secret-holding value.
@Suite struct NoSecretLeakTests {
    @Test func secretHoldingValuesNeverPrintTheirBytes() throws {
        let directory = try TemporaryDirectory()
        let masterPath = directory.appending("master.key")
        let master = try MasterKey.loadOrCreate(at: masterPath)
        let masterBytes = try Data(contentsOf: URL(fileURLWithPath: masterPath))
        let signingPath = directory.appending("signing.key")
        let signing = try BrokerSigningKey.loadOrCreate(at: signingPath)
        let seed = try Data(contentsOf: URL(fileURLWithPath: signingPath))

        let secretData = Data((0..<48).map { UInt8($0 * 5 + 1) })
        let secret = SecretBytes(copying: secretData)
        let token = SessionToken()
        let tokenText = token.transportEncoding

        var pool = try makePool(bits: [8192], masterKey: master)
        let reservation = try pool.reserveOTP(messageByteCount: 16)
        let ranges = reservation.ranges
        let sealing = try pool.takeOTPKey(reservation, keys: master)
        _ = sealing.messageByteCount
        let opening = try pool.otpOpeningKey(ranges: ranges, keys: master)
        let padAndKey = try master.unwrap(pool.segments[0].wrappedKey, context: pool.segments[0].wrapContext)
            .withUnsafeBytes { Data($0.prefix(48)) }
        let blockReservation = try pool.reserveAESBlock()
        let (_, blockKey) = try pool.takeAESBlock(blockReservation, startedAtMicroseconds: 0, keys: master)
        let registration = try PQCKeys.register(username: "bob", password: "Tr0ub4dor&3-secret", hasher: cheapHasher)
        let privateKey = try PQCKeys.unwrap(registration.wrappedPrivateKey, username: "bob", password: "Tr0ub4dor&3-secret", hasher: cheapHasher)

        let values: [Any] = [master, signing, secret, token, opening, blockKey, privateKey]
        let secrets = leakForms(of: masterBytes) + leakForms(of: seed) + leakForms(of: secretData)
            + leakForms(of: padAndKey) + [tokenText, String(tokenText.prefix(16)), "Tr0ub4dor"]
        for value in values {
            for text in printedForms(value) {
                for leak in secrets { #expect(!text.contains(leak), "\(type(of: value)) printed a secret") }
            }
        }
        #expect("\(token)" == "SessionToken(redacted)")
        #expect("\(secret)" == "SecretBytes(48 bytes, redacted)")
    }

    @Test func errorMessagesCarryNoSecret() throws {
        let password = "Sup3r-Secret-Passw0rd"
        let directory = try TemporaryDirectory()
        let path = directory.appending("master.key")
        let master = try MasterKey.loadOrCreate(at: path)
        let masterBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var errors: [any Error] = []
        func collect(_ body: () throws -> Void) {
            do { try body() } catch { errors.append(error) }
        }

        // Passwords.
        let stored = try cheapHasher.hash(password)
        collect { _ = try cheapHasher.verify(password, against: stored + "$") }
        collect { _ = try cheapHasher.verify(password, against: String(stored.dropLast(30))) }
        collect { _ = try PasswordHasher(cost: .cheapForTestsOnly) }
        // Tokens.
        let token = SessionToken().transportEncoding
        collect { _ = try SessionToken(transportEncoding: token + "A") }
        // Key files.
        chmod(path, 0o644)
        collect { _ = try MasterKey.loadOrCreate(at: path) }
        chmod(path, 0o600)
        let short = directory.appending("short.key")
        _ = FileManager.default.createFile(atPath: short, contents: masterBytes.prefix(31), attributes: [.posixPermissions: 0o600])
        collect { _ = try MasterKey.loadOrCreate(at: short) }
        // Wrapping.
        let secret = SecretBytes(copying: Data(password.utf8))
        let wrapped = try master.wrap(secret, context: "c")
        collect { _ = try MasterKey.ephemeral().unwrap(wrapped, context: "c") }
        collect { _ = try master.unwrap(wrapped, context: "d") }
        let registration = try PQCKeys.register(username: "bob", password: password, hasher: cheapHasher)
        collect { _ = try PQCKeys.unwrap(registration.wrappedPrivateKey, username: "bob", password: password + "!", hasher: cheapHasher) }
        // Messages.
        var pool = try makePool(bits: [4096], masterKey: master)
        let reservation = try pool.reserveOTP(messageByteCount: password.utf8.count)
        let ranges = reservation.ranges
        var sealed = try OTPCipher.seal(Data(password.utf8), context: context(), key: pool.takeOTPKey(reservation, keys: master))
        sealed.tag[0] ^= 1
        collect { _ = try OTPCipher.open(sealed, context: context(), key: pool.otpOpeningKey(ranges: ranges, keys: master)) }
        collect { _ = try pool.reserveOTP(messageByteCount: 10_000) }
        collect { try pool.recordConsumed(ranges) }
        let recipient = try PQCPublicKey(rawRepresentation: registration.publicKey)
        let pqc = try PQCCipher.seal(Data(password.utf8), context: context(), to: recipient)
        let wrongKey = try PQCKeys.unwrap(
            PQCKeys.register(username: "eve", password: "pw", hasher: cheapHasher).wrappedPrivateKey,
            username: "eve", password: "pw", hasher: cheapHasher)
        collect { _ = try PQCCipher.open(pqc, context: context(), with: wrongKey) }

        #expect(errors.count == 13)
        let leaks = [password, String(password.prefix(8)), token, String(token.prefix(16))] + leakForms(of: masterBytes)
            + leakForms(of: Data(password.utf8))
        for error in errors {
            #expect(error is QSMCryptoError)
            for text in [String(describing: error), String(reflecting: error), error.localizedDescription] {
                for leak in leaks { #expect(!text.contains(leak), "\(error) leaks a secret") }
            }
        }
    }
}
