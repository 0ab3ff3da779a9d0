public import Foundation
import Crypto

/// The log's hash chain: h(n) = SHA-256(h(n-1) || be64(n) || record(n)), h(0) = 32 zero bytes.
public enum HashChain {
    /// h(0).
    public static let genesis = Data(count: 32)

    /// h(position) given h(position - 1) and the record stored at `position`.
    public static func next(previous: Data, position: UInt64, record: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        withUnsafeBytes(of: position.bigEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(data: record)
        return Data(hasher.finalize())
    }
}

/// Big-endian keys, so LMDB's byte order is numeric order.
enum Keys {
    static func position(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func type(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    static func decodePosition(_ bytes: UnsafeRawBufferPointer) throws(EventLogError) -> UInt64 {
        guard bytes.count == 8 else { throw .corruptRecord(reason: "position key of \(bytes.count) bytes") }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
