import Foundation

/// glibc's malloc_trim, looked up at run time (Swift's Glibc module does not declare it): returns freed
/// heap pages to the system after a large temporary allocation such as a snapshot's encoding.
enum MemoryTrim {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let function: Trim? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()

    static func trim() {
        _ = function?(0)
    }
}
