import Foundation
import QSMCrypto
import QSMTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct MasterKeyTests {
    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    @Test func createdWith32RandomBytesMode0600AndReloaded() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("master.key")
        let created = try MasterKey.loadOrCreate(at: path)
        #expect(try mode(path) == 0o600)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 32)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["master.key"])
        let reloaded = try MasterKey.loadOrCreate(at: path)
        #expect(reloaded.keyID == created.keyID)
        let secret = SecretBytes(randomCount: 48)
        let wrapped = try created.wrap(secret, context: "segment-1")
        #expect(try reloaded.unwrap(wrapped, context: "segment-1").constantTimeEquals(secret))
        #expect(try MasterKey.load(at: path).keyID == created.keyID)
        #expect(created.keyID != MasterKey.ephemeral().keyID)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o620, 0o660, 0o601, 0o610, 0o666])
    func openFileIsRefusedWithAClearMessage(mode: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("master.key")
        _ = try MasterKey.loadOrCreate(at: path)
        #expect(chmod(path, mode_t(mode)) == 0)
        let error = #expect(throws: QSMCryptoError.keyFileTooOpen(path: path, mode: UInt32(mode))) {
            try MasterKey.loadOrCreate(at: path)
        }
        #expect("\(error!)".contains("chmod 600"))
        #expect("\(error!)".contains(String(mode, radix: 8)))
        // The refused file is left as it was: not rewritten, not deleted.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 32)
    }

    @Test func wrappedSecretsDoNotOpenUnderAnotherKeyOrContext() throws {
        let a = MasterKey.ephemeral()
        let b = MasterKey.ephemeral()
        let secret = SecretBytes(randomCount: 32)
        let wrapped = try a.wrap(secret, context: "kx-1")
        #expect(wrapped.keyID == a.keyID)
        #expect(wrapped.algorithm == "AES-256-GCM")
        #expect(wrapped.nonce.count == 12)
        #expect(wrapped.sealed.count == 32 + 16)
        #expect(throws: QSMCryptoError.wrongWrappingKey(expected: b.keyID, found: a.keyID)) {
            try b.unwrap(wrapped, context: "kx-1")
        }
        // Relabelled as b's: the AES-GCM tag still fails under b's key.
        var relabelled = wrapped
        relabelled.keyID = b.keyID
        #expect(throws: QSMCryptoError.unwrapFailed(keyID: b.keyID)) { try b.unwrap(relabelled, context: "kx-1") }
        // Another context, or a flipped bit anywhere, fails.
        #expect(throws: QSMCryptoError.unwrapFailed(keyID: a.keyID)) { try a.unwrap(wrapped, context: "kx-2") }
        for index in 0..<wrapped.sealed.count {
            var altered = wrapped
            altered.sealed[index] ^= 0x10
            #expect(throws: QSMCryptoError.unwrapFailed(keyID: a.keyID)) { try a.unwrap(altered, context: "kx-1") }
        }
        var alteredNonce = wrapped
        alteredNonce.nonce[0] ^= 1
        #expect(throws: QSMCryptoError.unwrapFailed(keyID: a.keyID)) { try a.unwrap(alteredNonce, context: "kx-1") }
    }

    @Test func malformedWrappedSecretsAreTyped() throws {
        let key = MasterKey.ephemeral()
        let wrapped = try key.wrap(SecretBytes(randomCount: 32), context: "")
        var shortNonce = wrapped
        shortNonce.nonce = shortNonce.nonce.prefix(11)
        var truncated = wrapped
        truncated.sealed = truncated.sealed.prefix(15)
        var otherAlgorithm = wrapped
        otherAlgorithm.algorithm = "ChaCha20-Poly1305"
        for bad in [shortNonce, truncated, otherAlgorithm] {
            #expect {
                try key.unwrap(bad, context: "")
            } throws: { error in
                if case .malformedWrappedSecret = error as? QSMCryptoError { return true }
                return false
            }
        }
    }

    @Test func badKeyFilesAreTypedErrorsAndNothingIsHalfWritten() throws {
        let directory = try TemporaryDirectory()
        // Truncated (31 bytes) and too long (33 bytes).
        for size in [0, 31, 33] {
            let path = directory.appending("size\(size).key")
            #expect(FileManager.default.createFile(atPath: path, contents: Data(count: size), attributes: [.posixPermissions: 0o600]))
            #expect(throws: QSMCryptoError.keyFileWrongSize(path: path, expected: 32, actual: size)) {
                try MasterKey.loadOrCreate(at: path)
            }
        }
        // A directory, and a symbolic link to a good key, are not regular files.
        let dirPath = directory.appending("dir.key")
        try FileManager.default.createDirectory(atPath: dirPath, withIntermediateDirectories: false)
        #expect(throws: QSMCryptoError.keyFileNotRegular(path: dirPath)) { try MasterKey.loadOrCreate(at: dirPath) }
        let good = directory.appending("good.key")
        _ = try MasterKey.loadOrCreate(at: good)
        let link = directory.appending("link.key")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: good)
        #expect(throws: QSMCryptoError.keyFileNotRegular(path: link)) { try MasterKey.loadOrCreate(at: link) }
        // Unreadable: a path through a regular file.
        let through = good + "/master.key"
        #expect {
            try MasterKey.loadOrCreate(at: through)
        } throws: { error in
            guard case .keyFileUnreadable(let path, let reason) = error as? QSMCryptoError else { return false }
            return path == through && reason.lowercased().contains("not a directory")
        }
        // Missing, with load: unreadable, and nothing created.
        let missing = directory.appending("missing.key")
        #expect(throws: QSMCryptoError.self) { try MasterKey.load(at: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        // Creation in a missing directory: a typed error, and no temporary file left anywhere.
        let nowhere = directory.appending("no/such/dir/master.key")
        #expect {
            try MasterKey.loadOrCreate(at: nowhere)
        } throws: { error in
            if case .keyFileNotCreated = error as? QSMCryptoError { return true }
            return false
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty)
    }

    @Test func concurrentFirstStartsAgreeOnOneKey() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("master.key")
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try MasterKey.loadOrCreate(at: path).keyID } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["master.key"])
    }
}
