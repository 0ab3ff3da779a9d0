import Foundation
import FuzzTargets

// fuzz-event-record: built by tools/fuzz with libFuzzer (-DQSM_LIBFUZZER); otherwise it replays files.
#if QSM_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    EventRecordFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM links executables with `--defsym main=fuzz_event_record_main`; tools/fuzz adds --allow-multiple-definition
// for libFuzzer's own main. Whichever main the linker keeps, libFuzzer's driver runs the function above.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("fuzz_event_record_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return runDriver(&argc, &argv, fuzz)
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
