import FuzzTargets

// fuzz-ids-rules: built by tools/fuzz with libFuzzer (-DQSM_LIBFUZZER); otherwise it replays files.
#if QSM_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    IDSRulesFuzzer.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
enum Replay {
    static func main() { FuzzTargets.replay(Array(CommandLine.arguments.dropFirst()), through: IDSRulesFuzzer.run) }
}
#endif
