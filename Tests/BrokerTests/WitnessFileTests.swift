import Broker
import EventLog
import Foundation
import QSMTesting
import Testing

/// The witness file is opened only if it is the broker's own regular file: a symbolic link could aim
/// the appends at a file another user chose, and a file another user owns or may write could be emptied
/// or rewritten by them (security review, issue 16 item 14).
@Suite("Witness file ownership")
struct WitnessFileTests {
    private func open(witness: String) throws -> Broker {
        let data = try TemporaryDirectory(prefix: "qsm-witness-data")
        var configuration = BrokerConfiguration(dataDirectory: data.path + "/data")
        configuration.passwordMemoryKiB = 8
        configuration.passwordIterations = 1
        configuration.allowCheapPasswordHashingForTests = true
        configuration.witnessPath = witness
        return try Broker(configuration: configuration)
    }

    private func expectRefused(_ witness: String, saying words: String) {
        #expect {
            _ = try open(witness: witness)
        } throws: { error in
            guard case BrokerError.invalidParameter(let name, let reason) = error else { return false }
            return name == "witness" && reason.contains(words)
        }
    }

    @Test func theBrokersOwnFileIsUsed() async throws {
        let outside = try TemporaryDirectory(prefix: "qsm-witness")
        let broker = try open(witness: outside.path + "/witness")
        await broker.close()
        let mode = try FileManager.default.attributesOfItem(atPath: outside.path + "/witness")[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }

    @Test func aSymbolicLinkIsRefused() throws {
        let outside = try TemporaryDirectory(prefix: "qsm-witness")
        let target = outside.path + "/someone-elses-file"
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: outside.path + "/witness", withDestinationPath: target)
        expectRefused(outside.path + "/witness", saying: "symbolic link")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\n", "nothing was appended to the target")
    }

    @Test func aFileOthersMayWriteIsRefused() throws {
        let outside = try TemporaryDirectory(prefix: "qsm-witness")
        let path = outside.path + "/witness"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(chmod(path, 0o666) == 0)
        expectRefused(path, saying: "writable by others")
        #expect(chmod(path, 0o620) == 0)
        expectRefused(path, saying: "writable by others")
    }

    @Test func aFileAnotherUserOwnsIsRefused() throws {
        let outside = try TemporaryDirectory(prefix: "qsm-witness")
        let path = outside.path + "/witness"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        guard chown(path, 65_534, 65_534) == 0 else {
            // Giving a file away needs root (CI runs as root); without it, say so rather than pass quietly.
            print("WitnessFileTests: skipped the other-owner case: chown to uid 65534 needs root (uid \(getuid()))")
            return
        }
        #expect(chmod(path, 0o644) == 0)
        expectRefused(path, saying: "is owned by uid 65534")
    }

    @Test func aPathInsideTheDataDirectoryIsRefused() throws {
        let data = try TemporaryDirectory(prefix: "qsm-witness-data")
        var configuration = BrokerConfiguration(dataDirectory: data.path + "/data")
        configuration.allowCheapPasswordHashingForTests = true
        configuration.passwordMemoryKiB = 8
        configuration.passwordIterations = 1
        for inside in [data.path + "/data/witness", data.path + "/data/../data/log/witness"] {
            configuration.witnessPath = inside
            #expect {
                _ = try Broker(configuration: configuration)
            } throws: { error in
                guard case BrokerError.invalidParameter("witness", let reason) = error else { return false }
                return reason.contains("inside the data directory")
            }
        }
    }

    /// A new witness gets the log's latest checkpoint at start; a witness of another log is refused.
    @Test func aNewWitnessCatchesUpAndAnotherLogsWitnessIsRefused() async throws {
        let outside = try TemporaryDirectory(prefix: "qsm-witness")
        let first = try TemporaryDirectory(prefix: "qsm-witness-data")
        var configuration = BrokerConfiguration(dataDirectory: first.path + "/data")
        configuration.allowCheapPasswordHashingForTests = true
        configuration.passwordMemoryKiB = 8
        configuration.passwordIterations = 1
        var broker = try Broker(configuration: configuration)
        _ = try await broker.register(username: "alice", password: "alice-password", caller: .local)
        await broker.close()  // the closing checkpoint, with no witness yet

        configuration.witnessPath = outside.path + "/witness"
        broker = try Broker(configuration: configuration)
        let records = try WitnessRecord.read(path: outside.path + "/witness")
        #expect(records.count == 1, "the latest checkpoint was copied at start")
        #expect(records.first?.statement.logID == broker.log.meta.logID)
        _ = try await broker.register(username: "bob", password: "bob-password", caller: .local)
        await broker.close()
        #expect(try WitnessRecord.read(path: outside.path + "/witness").count == 2, "and the closing one, which signs bob's registration")

        var other = configuration
        other.dataDirectory = first.path + "/other"
        other.witnessPath = nil
        let second = try Broker(configuration: other)
        _ = try await second.register(username: "carol", password: "carol-password", caller: .local)
        await second.close()
        other.witnessPath = configuration.witnessPath
        #expect {
            _ = try Broker(configuration: other)
        } throws: { error in
            guard case BrokerError.invalidParameter("witness", let reason) = error else { return false }
            return reason.contains("witnesses another log")
        }
    }
}
