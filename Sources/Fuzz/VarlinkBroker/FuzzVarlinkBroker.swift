import FuzzTargets

// fuzz-varlink-broker: built by tools/fuzz with libFuzzer (-DQSM_LIBFUZZER); otherwise it replays files.
#if QSM_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    VarlinkBrokerFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM links executables with `--defsym main=fuzz_varlink_broker_main`; tools/fuzz adds --allow-multiple-definition
// for libFuzzer's own main. Whichever main the linker keeps, libFuzzer's driver runs the function above.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("fuzz_varlink_broker_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return runDriver(&argc, &argv, fuzz)
}
#else
@main
enum Replay {
    static func main() { FuzzTargets.replay(Array(CommandLine.arguments.dropFirst()), through: VarlinkBrokerFuzzer.run) }
}
#endif
