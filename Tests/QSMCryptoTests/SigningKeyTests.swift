import Foundation
import QSMCrypto
import QSMTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SigningKeyTests {
    @Test func signAndVerifyAcrossRestart() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("signing.key")
        let key = try BrokerSigningKey.loadOrCreate(at: path)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
        #expect(mode == 0o600)
        #expect(key.publicKeyID.count == 32)
        let checkpoint = Data("position 42, chain hash ...".utf8)
        let signature = try key.signature(for: checkpoint)
        #expect(BrokerSigningKey.isValidSignature(signature, for: checkpoint, publicKey: key.publicKey))

        let reloaded = try BrokerSigningKey.loadOrCreate(at: path)
        #expect(reloaded.publicKey == key.publicKey)
        #expect(BrokerSigningKey.isValidSignature(try reloaded.signature(for: checkpoint), for: checkpoint, publicKey: key.publicKey))

        var altered = checkpoint
        altered[0] ^= 1
        #expect(!BrokerSigningKey.isValidSignature(signature, for: altered, publicKey: key.publicKey))
        var badSignature = signature
        badSignature[100] ^= 1
        #expect(!BrokerSigningKey.isValidSignature(badSignature, for: checkpoint, publicKey: key.publicKey))
        let other = try BrokerSigningKey.ephemeral()
        #expect(!BrokerSigningKey.isValidSignature(signature, for: checkpoint, publicKey: other.publicKey))
        #expect(!BrokerSigningKey.isValidSignature(signature, for: checkpoint, publicKey: Data(count: 10)))
    }

    @Test func openSeedFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("signing.key")
        _ = try BrokerSigningKey.loadOrCreate(at: path)
        #expect(chmod(path, 0o640) == 0)
        #expect(throws: QSMCryptoError.keyFileTooOpen(path: path, mode: 0o640)) { try BrokerSigningKey.loadOrCreate(at: path) }
    }
}
