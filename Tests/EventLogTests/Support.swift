import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Synchronization

/// Paths of the package's built products, which sit beside the test runner.
enum Products {
    static var directory: String {
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: runner).deletingLastPathComponent()
        // On Linux the runner is <bin>/qsmPackageTests.xctest; elsewhere it may sit inside a bundle.
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("qsm-logload").path),
              url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.path
    }

    static var logload: String { directory + "/qsm-logload" }

    /// The package's root directory (for Schemas/ and tools/).
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}

/// Every sample event type, as NewEvents with varied actors and peers.
func sampleEventsOfEveryType(seed: UInt64 = 7) throws -> [NewEvent] {
    var generator = SeededGenerator(seed: seed)
    return try SampleEvents.allBodies(using: &generator).enumerated().map { index, body in
        try NewEvent(
            body, actor: index.isMultiple(of: 3) ? "" : "user\(index % 4)",
            correlationID: Data([UInt8(index), 1, 2, 3]),
            peer: index.isMultiple(of: 2) ? PeerCredentials(uid: 1000 + UInt32(index), gid: 100, pid: 4000 + Int32(index)) : nil)
    }
}

func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
