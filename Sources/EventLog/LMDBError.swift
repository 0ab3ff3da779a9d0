internal import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed LMDB call: the return code and LMDB's own description of it.
struct LMDBError: Error, CustomStringConvertible {
    let code: Int32
    let operation: String

    init(_ code: Int32, _ operation: String) {
        self.code = code
        self.operation = operation
    }

    var description: String {
        "\(operation): \(String(cString: mdb_strerror(code))) (\(code))"
    }

    var isMapFull: Bool { code == MDB_MAP_FULL }
    var isMapResized: Bool { code == MDB_MAP_RESIZED }
    var isNotFound: Bool { code == MDB_NOTFOUND }
    var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
    var isPermission: Bool { code == EACCES || code == EPERM || code == EROFS }

    /// Whether this is LMDB's answer to a short write on a full file system: mdb_page_flush reports a
    /// pwrite that wrote only part of its pages as EIO, not ENOSPC (large records, such as pqc messages
    /// with their sender copy, meet the end of the disk mid-write). Told apart from a real I/O error by
    /// the file system at `path` having (almost) no room left.
    func isShortWriteOnFullDisk(path: String) -> Bool {
        guard code == EIO else { return false }
        var space = statvfs()
        guard statvfs(path, &space) == 0 else { return false }
        return UInt64(space.f_bavail) * UInt64(space.f_frsize) < 1 << 20
    }
}

/// Throws an `LMDBError` for any nonzero LMDB return code.
@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if code != 0 { throw LMDBError(code, operation()) }
}
