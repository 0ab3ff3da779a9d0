import Broker
import Foundation
import QSMClient
import QSMTesting
import Testing

/// `--version` on both binaries, and the same version in qsmd's GetInfo (issue 18 item 15, in part).
@Suite("--version")
struct VersionTests {
    @Test func bothBinariesAndGetInfoSayTheRelease() async throws {
        for binary in [Products.qsm, Products.qsmd] {
            let (status, lines, stderr) = try await ChildProcess.run(binary, ["--version"])
            #expect(status == 0 && lines == [Release.version], "\(binary): \(lines) \(stderr)")
        }
        let daemon = try await Daemon(settings: cheapSettings())
        let connection = try await QSMConnection.connect(socketPath: daemon.socket)
        let info = try await connection.call(GetInfo())
        await connection.close()
        #expect(info.version == Release.version)
        #expect(try await daemon.stop() == 0)
    }
}
