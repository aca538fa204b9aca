#!/usr/bin/env python3
"""Writes the OP_MSG fixtures here, byte by byte from the MongoDB wire-protocol and BSON (bsonspec.org)
layouts. No MongoDB server is installable on this machine, so these are hand-built, not captured.
  mongo_find.bin:   find {"find": "users", "filter": {"age": {"$gt": 30}}, "$db": "shop"}, requestID 7
  mongo_insert.bin: insert body + a kind-1 "documents" section with one document of many BSON types
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def cstr(s):
    return s.encode() + b"\0"


def el(t, name, val):
    return bytes([t]) + cstr(name) + val


def string(v):
    b = v.encode() + b"\0"
    return struct.pack("<i", len(b)) + b


def doc(*els):
    body = b"".join(els) + b"\0"
    return struct.pack("<i", len(body) + 4) + body


def op_msg(request_id, payload):
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, 2013) + payload


def main():
    body = doc(el(0x02, "find", string("users")),
               el(0x03, "filter", doc(el(0x03, "age", doc(el(0x10, "$gt", struct.pack("<i", 30)))))),
               el(0x02, "$db", string("shop")))
    find = op_msg(7, struct.pack("<I", 0) + b"\0" + body)
    ins_body = doc(el(0x02, "insert", string("users")), el(0x02, "$db", string("shop")))
    d1 = doc(el(0x07, "_id", bytes(range(12))), el(0x02, "name", string("ann")), el(0x08, "vip", b"\x01"),
             el(0x12, "n", struct.pack("<q", -5)), el(0x01, "x", struct.pack("<d", 1.5)),
             el(0x04, "tags", doc(el(0x02, "0", string("a")), el(0x0A, "1", b""))))
    sec = cstr("documents") + d1
    insert = op_msg(8, struct.pack("<I", 0) + b"\0" + ins_body + b"\x01" + struct.pack("<i", len(sec) + 4) + sec)
    for name, data in (("mongo_find.bin", find), ("mongo_insert.bin", insert)):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
