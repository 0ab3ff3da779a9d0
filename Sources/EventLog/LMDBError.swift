internal import CLMDB
import Foundation

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
}

/// Throws an `LMDBError` for any nonzero LMDB return code.
@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if code != 0 { throw LMDBError(code, operation()) }
}
