import FuzzTargets

// fuzz-varlink-broker: built by tools/fuzz with libFuzzer (-DQSM_LIBFUZZER); otherwise it replays files.
#if QSM_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    VarlinkBrokerFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
enum Replay {
    static func main() { FuzzTargets.replay(Array(CommandLine.arguments.dropFirst()), through: VarlinkBrokerFuzzer.run) }
}
#endif
