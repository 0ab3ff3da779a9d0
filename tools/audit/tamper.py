#!/usr/bin/env python3
"""tools/audit/tamper.py: the attacker of the audit tests. Edits a copy of a qsm event log with
python3-lmdb, as someone holding the data directory could, to show what qsm audit verify catches.

  flip     --log DIR --position P   change one byte of the record at P; leave the hash chain alone
  rewrite  --log DIR --position P   change one byte of the record at P and recompute every chain hash
                                    from P on, so the chain alone looks intact
  truncate --log DIR --keep N       delete every event, chain hash and index entry after position N,
                                    and every snapshot of a later position (a log cut back, or restored
                                    from an older backup)

The byte changed is the last ASCII lowercase letter of the record (XOR 0x01), so the record still
decodes and only the hash chain, the signatures or a witness can tell. Prints one JSON line.
"""
import argparse
import hashlib
import json
import struct
import sys

import lmdb


def key(position):
    return struct.pack(">Q", position)


def changed(record):
    data = bytearray(record)
    for index in range(len(data) - 1, -1, -1):
        if 0x61 <= data[index] <= 0x7A:
            data[index] ^= 0x01
            return bytes(data), index
    sys.exit("tamper: the record has no lowercase letter to change")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["flip", "rewrite", "truncate"])
    parser.add_argument("--log", required=True, help="the log directory (DATA/log)")
    parser.add_argument("--position", type=int)
    parser.add_argument("--keep", type=int)
    parser.add_argument("--keep-snapshots", action="store_true",
                        help="truncate: leave the snapshots alone (a snapshot then describes events the log lost)")
    args = parser.parse_args()

    env = lmdb.open(args.log, max_dbs=16, readonly=False, lock=True)
    events = env.open_db(b"events", create=False)
    chain = env.open_db(b"chain", create=False)
    # Opened before the write transaction: open_db inside it would wait for that transaction's own lock.
    indexes = [env.open_db(name, create=False, dupsort=True, dupfixed=True) for name in (b"by_actor", b"by_type")]
    snapshots = env.open_db(b"snapshots", create=False)
    with env.begin(write=True) as txn:
        if args.action in ("flip", "rewrite"):
            position = args.position
            record = txn.get(key(position), db=events)
            if record is None:
                sys.exit(f"tamper: no event at {position}")
            record, offset = changed(record)
            txn.put(key(position), record, db=events)
            rehashed = 0
            if args.action == "rewrite":
                previous = bytes(32) if position == 1 else txn.get(key(position - 1), db=chain)
                cursor = txn.cursor(db=events)
                cursor.set_key(key(position))
                for raw_key, value in cursor:
                    previous = hashlib.sha256(previous + raw_key + value).digest()
                    txn.put(raw_key, previous, db=chain)
                    rehashed += 1
            print(json.dumps({"action": args.action, "position": position, "offset": offset, "rehashed": rehashed}))
        else:
            removed = 0
            for db in (events, chain):
                cursor = txn.cursor(db=db)
                doomed = [k for k, _ in cursor if struct.unpack(">Q", k)[0] > args.keep]
                for k in doomed:
                    txn.delete(k, db=db)
                removed += len(doomed)
            for db in indexes:
                cursor = txn.cursor(db=db)
                doomed = [(k, v) for k, v in cursor if struct.unpack(">Q", v[-8:])[0] > args.keep]
                for k, v in doomed:
                    txn.delete(k, v, db=db)
            cursor = txn.cursor(db=snapshots)
            # A snapshot's value starts with the big-endian position it describes.
            stale = [] if args.keep_snapshots else [k for k, v in cursor if struct.unpack(">Q", v[:8])[0] > args.keep]
            for k in stale:
                txn.delete(k, db=snapshots)
            print(json.dumps({"action": "truncate", "keep": args.keep, "removed": removed, "snapshots": len(stale)}))


if __name__ == "__main__":
    main()
