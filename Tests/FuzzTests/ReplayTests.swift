import Foundation
import FuzzTargets
import Testing

/// Every committed seed and every regression input, through the same entry functions libFuzzer drives,
/// in a normal debug build: a crash found once stays fixed.
@Suite struct ReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/fuzz.d")

    static func inputs(_ kind: String, _ target: String) -> [URL] {
        let directory = root.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Runs `body` on a thread of its own: the entry functions block their caller while async work runs on
    /// Swift's cooperative pool, which must not be the caller (two threads on a 2-core machine).
    static func onOwnThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                body()
                continuation.resume()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    @Test(.serialized, arguments: FuzzTargets.all.map(\.name))
    func corpusAndRegressionsReplay(target: String) async throws {
        let run = try #require(FuzzTargets.target(named: target))
        let corpus = Self.inputs("corpus", target)
        #expect(!corpus.isEmpty, "no seed corpus for \(target)")
        let inputs = try (corpus + Self.inputs("regressions", target)).map { try Data(contentsOf: $0) }
        await Self.onOwnThread {
            for data in inputs { data.withUnsafeBytes { run($0) } }
        }
    }

    @Test func everyTargetHasAnExecutableAndACorpus() throws {
        let sources = Self.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Package.swift")
        let manifest = try String(contentsOf: sources, encoding: .utf8)
        for target in FuzzTargets.all.map(\.name) {
            #expect(manifest.contains("\"fuzz-\(target)\""), "Package.swift has no fuzz-\(target)")
        }
    }
}
