import Foundation
import FuzzTargets

// fuzz-event-record: built by tools/fuzz with libFuzzer (-DQSM_LIBFUZZER); otherwise it replays files.
#if QSM_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    EventRecordFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
enum Replay {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // `--write-seeds DIR` writes the seed corpus (tools/fuzz.d/corpus/event-record).
        if arguments.first == "--write-seeds", arguments.count == 2 {
            for seed in try EventRecordFuzzer.seeds() {
                try Data(seed.bytes).write(to: URL(fileURLWithPath: arguments[1]).appendingPathComponent(seed.name))
            }
            return
        }
        FuzzTargets.replay(arguments, through: EventRecordFuzzer.run)
    }
}
#endif
