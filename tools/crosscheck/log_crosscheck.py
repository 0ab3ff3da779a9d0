#!/usr/bin/python3
"""Independent cross-check of a qsm event log, written without any of qsm's Swift code.

Opens the LMDB environment with python3-lmdb, compiles Schemas/*.proto with protoc into a temporary
directory and decodes every record with python3-protobuf, recomputes the hash chain
h(n) = SHA-256(h(n-1) || be64(n) || record(n)), h(0) = 32 zero bytes, and checks positions, types and
indexes. Prints one JSON object: events, head hash, first bad position and problem, counts by type.

usage: log_crosscheck.py --schemas SCHEMAS_DIR --log LOG_DIR
"""
import argparse
import glob
import hashlib
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile


def compile_schemas(schemas):
    out = tempfile.mkdtemp(prefix="qsm-pb2-")
    protos = sorted(os.path.relpath(p, schemas) for p in glob.glob(os.path.join(schemas, "qsm", "**", "*.proto"), recursive=True))
    subprocess.run(["protoc", "-I", schemas, "--python_out", out, *protos], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("qsm.events.v1.event_pb2")


def check(env, event_pb2):
    events = env.open_db(b"events", create=False)
    chain = env.open_db(b"chain", create=False)
    by_actor = env.open_db(b"by_actor", create=False, dupsort=True)
    by_type = env.open_db(b"by_type", create=False, dupsort=True)
    body_fields = {f.number: f.name for f in event_pb2.Event.DESCRIPTOR.oneofs_by_name["body"].fields}
    result = {"events": 0, "head_hash": (b"\0" * 32).hex(), "first_bad": None, "types": {}}
    h = b"\0" * 32
    last_time = None

    def bad(position, problem):
        result["first_bad"] = {"position": position, "problem": problem}
        return result

    with env.begin() as txn:
        chain_cursor = txn.cursor(chain)
        chain_items = iter(chain_cursor)
        expected = 1
        for key, record in txn.cursor(events):
            (position,) = struct.unpack(">Q", key)
            if position != expected:
                return bad(expected, "gap")
            link = next(chain_items, None)
            if link is None or struct.unpack(">Q", link[0])[0] != position:
                return bad(position, "missing chain entry")
            try:
                event = event_pb2.Event.FromString(bytes(record))
            except Exception as error:  # noqa: BLE001 - any decode failure is the finding
                return bad(position, "undecodable: %s" % error)
            h_next = hashlib.sha256(h + struct.pack(">Q", position) + bytes(record)).digest()
            if h_next != bytes(link[1]):
                return bad(position, "hash mismatch")
            if event.position != position:
                return bad(position, "position mismatch")
            body = event.WhichOneof("body")
            if body is None or body_fields.get(event.type) != body:
                return bad(position, "type %d does not match body %s" % (event.type, body))
            if last_time is not None and event.recorded_at_us < last_time:
                return bad(position, "time went backwards")
            if not txn.get(struct.pack(">I", event.type), db=by_type) or not txn.cursor(by_type).set_key_dup(
                struct.pack(">I", event.type), key
            ):
                return bad(position, "missing from the type index")
            if event.actor and not txn.cursor(by_actor).set_key_dup(event.actor.encode(), key):
                return bad(position, "missing from the actor index")
            last_time = event.recorded_at_us
            h = h_next
            result["events"] = position
            result["head_hash"] = h.hex()
            result["types"][body] = result["types"].get(body, 0) + 1
            expected += 1
        if next(chain_items, None) is not None:
            return bad(expected, "chain entry without event")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", required=True, help="the Schemas/ directory of the qsm checkout")
    parser.add_argument("--log", required=True, help="the event log directory (holds data.mdb)")
    args = parser.parse_args()
    import lmdb  # python3-lmdb (Debian) or PyPI lmdb

    event_pb2 = compile_schemas(args.schemas)
    env = lmdb.open(args.log, readonly=True, max_dbs=16, lock=True, subdir=True, create=False)
    print(json.dumps(check(env, event_pb2), sort_keys=True))


if __name__ == "__main__":
    main()
