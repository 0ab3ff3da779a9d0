import ArgumentParser
import EventLog
import Forensics
import Foundation

extension QSM {
    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect the event log of a data directory.", subcommands: [Info.self, Export.self, Replay.self, Copy.self])
    }
}

extension QSM.Log {
    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the log's id, format, creation time, head and size.")

        @OptionGroup var options: DataOptions

        func run() async throws {
            let log = try openReadOnly(options)
            let head = try log.head()
            let stats = try log.storageStats()
            let hash = head.hash.map { String(format: "%02x", $0) }.joined()
            // RFC 3339 with microseconds, as every other --json time (qsm log export, the socket commands).
            let created = Timestamps.string(micros: Int64((log.meta.createdAt.timeIntervalSince1970 * 1_000_000).rounded()))
            if options.json {
                printJSON([
                    "path": log.path, "logId": log.meta.logID.uuidString, "formatVersion": log.meta.formatVersion,
                    "createdAt": created, "head": head.position, "headHash": hash, "fileBytes": stats.fileSize,
                    "mapBytes": stats.mapSize,
                ])
            } else {
                print("log      \(log.path)")
                print("id       \(log.meta.logID.uuidString)")
                print("format   \(log.meta.formatVersion)")
                print("created  \(created)")
                print("events   \(head.position)")
                print("head     \(hash)")
                print("size     \(stats.fileSize) bytes on disk, map \(stats.mapSize) bytes")
            }
        }
    }
}
