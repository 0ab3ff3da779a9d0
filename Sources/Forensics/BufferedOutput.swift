import Glibc

/// Writes bytes to a file descriptor in large blocks: export produces hundreds of thousands of lines a
/// second, and a write(2) (or a print) per line would cost more than producing them.
///
/// Callers fill `json` and call `flushIfFull()` after each line; `flush()` at the end.
public final class BufferedOutput {
    /// The descriptor written to (standard output by default).
    public let descriptor: Int32
    /// The buffer lines are written into.
    public var json: CanonicalJSON
    private let threshold: Int
    /// Bytes handed to the kernel so far.
    public private(set) var written = 0

    /// - Parameters:
    ///   - descriptor: where to write (not closed here).
    ///   - blockSize: how many bytes to gather before a write.
    public init(descriptor: Int32 = 1, blockSize: Int = 1 << 18) {
        self.descriptor = descriptor
        threshold = blockSize
        json = CanonicalJSON(capacity: blockSize + (1 << 16))
    }

    /// Writes the buffer out once it holds a block.
    @inline(__always)
    public func flushIfFull() throws(ForensicsError) {
        if json.bytes.count >= threshold { try flush() }
    }

    /// Appends text as is (for human-readable lines).
    public func write(_ text: String) throws(ForensicsError) {
        json.bytes.append(contentsOf: text.utf8)
        try flushIfFull()
    }

    /// Writes everything buffered.
    public func flush() throws(ForensicsError) {
        var offset = 0
        let failure: Int32? = json.bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let count = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += count
            }
            return nil
        }
        written += offset
        json.removeAll()
        if let failure { throw .output(String(cString: strerror(failure))) }
    }
}
