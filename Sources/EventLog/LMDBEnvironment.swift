internal import CLMDB
import Foundation

/// An open LMDB environment and the named databases of the log.
///
/// Read transactions may run on any thread (the environment is opened with `MDB_NOTLS`). Growing the
/// map requires that no transaction of this process is active, so every transaction holds `resizeLock`
/// shared and a resize holds it exclusively.
final class LMDBEnvironment: @unchecked Sendable {
    let handle: OpaquePointer
    let readOnly: Bool
    private let resizeLock = ReadWriteLock()

    /// Opens (creating files if `readOnly` is false) the environment in `directory`.
    init(directory: String, readOnly: Bool, mapSize: Int, maxReaders: UInt32) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(ENOMEM, "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, 16), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, maxReaders), "mdb_env_set_maxreaders")
            if !readOnly { try check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize") }
            var flags = UInt32(MDB_NOTLS)
            if readOnly { flags |= UInt32(MDB_RDONLY) }
            try check(mdb_env_open(env, directory, flags, 0o600), "mdb_env_open \(directory)")
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.readOnly = readOnly
    }

    deinit { mdb_env_close(handle) }

    /// The current map size in bytes.
    var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Grows the map to `bytes`; waits until no transaction of this process is active.
    func setMapSize(_ bytes: Int) throws(LMDBError) {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        try check(mdb_env_set_mapsize(handle, bytes), "mdb_env_set_mapsize \(bytes)")
    }

    /// Runs `body` in a read-only transaction, aborted afterwards. No `await` can happen inside.
    func read<R>(_ body: (Transaction) throws -> R) throws -> R {
        while true {
            resizeLock.lockShared()
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn)
            if rc == MDB_MAP_RESIZED {
                // Another process grew the map: adopt its size, which needs no transaction active here.
                resizeLock.unlock()
                try setMapSize(0)
                continue
            }
            defer { resizeLock.unlock() }
            try check(rc, "mdb_txn_begin (read)")
            guard let txn else { throw LMDBError(EINVAL, "mdb_txn_begin (read)") }
            defer { mdb_txn_abort(txn) }
            return try body(Transaction(txn))
        }
    }

    /// Runs `body` in a read-only transaction that is committed, so database handles it opened stay open.
    func readCommitting<R>(_ body: (Transaction) throws -> R) throws -> R {
        resizeLock.lockShared()
        defer { resizeLock.unlock() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin (read)")
        guard let txn else { throw LMDBError(EINVAL, "mdb_txn_begin (read)") }
        let result: R
        do {
            result = try body(Transaction(txn))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try check(mdb_txn_commit(txn), "mdb_txn_commit (read)")
        return result
    }

    /// Runs `body` in a write transaction, committed (durably, unless the environment says otherwise)
    /// when it returns and aborted when it throws.
    func write<R>(_ body: (Transaction) throws -> R) throws -> R {
        resizeLock.lockShared()
        defer { resizeLock.unlock() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn), "mdb_txn_begin (write)")
        guard let txn else { throw LMDBError(EINVAL, "mdb_txn_begin (write)") }
        let result: R
        do {
            result = try body(Transaction(txn))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        // mdb_txn_commit frees the transaction whether or not it succeeds.
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
        return result
    }

    /// `write`, growing the map and running `body` again whenever the map is full. The map doubles, but
    /// by at most 4 GiB a step: it is address space, and the file grows only as pages are written.
    func writeGrowingMap<R>(_ body: (Transaction) throws -> R) throws -> R {
        while true {
            do {
                return try write(body)
            } catch let error as LMDBError where error.isMapFull {
                let current = mapSize
                try setMapSize(current + min(current, 4 << 30))
            }
        }
    }
}

/// A live LMDB transaction, valid only inside the closure that received it.
struct Transaction {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    /// Opens a named database; `create` only in write transactions.
    func openDatabase(_ name: String, flags: Int32 = 0, create: Bool = false) throws(LMDBError) -> MDB_dbi {
        var dbi: MDB_dbi = 0
        let all = UInt32(flags) | (create ? UInt32(MDB_CREATE) : 0)
        try check(mdb_dbi_open(handle, name, all, &dbi), "mdb_dbi_open \(name)")
        return dbi
    }

    /// Stores `value` under `key`.
    func put(_ dbi: MDB_dbi, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: Int32 = 0)
        throws(LMDBError)
    {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle, dbi, &k, &v, UInt32(flags)), "mdb_put")
    }

    /// The value under `key`, valid until the transaction ends, or nil.
    func get(_ dbi: MDB_dbi, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle, dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// Opens a cursor, closed when `body` returns.
    func withCursor<R>(_ dbi: MDB_dbi, _ body: (Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, dbi, &cursor), "mdb_cursor_open")
        guard let cursor else { throw LMDBError(EINVAL, "mdb_cursor_open") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(handle: cursor))
    }
}

/// An LMDB cursor; keys and values it returns are valid until the next cursor call.
struct Cursor {
    let handle: OpaquePointer

    /// Positions the cursor and returns the key and value there, or nil at the end (MDB_NOTFOUND).
    func get(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil)
        throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
    {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// Positions the cursor by key and value (MDB_GET_BOTH, MDB_GET_BOTH_RANGE).
    func getBoth(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
        throws(LMDBError) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
    {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
}
