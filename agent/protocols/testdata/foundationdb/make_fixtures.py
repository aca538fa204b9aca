#!/usr/bin/env python3
"""Writes the FoundationDB fixtures in this folder (no fdbserver here to capture from). Each byte is
placed from the public facts of the wire format; where they come from:

- ConnectPacket: u32 length (LE, without itself) = 40; u64 protocol version LE 0x1FDB00B072000000
  (7.2, flags nibble 1: bytes 10..11 are DB 1F); u16 canonical port; u64 connection id; u32 IPv4;
  u16 flags; 16-byte IPv6 (apple/foundationdb design/flow_transport.md, FlowTransport.h ConnectPacket).
- Packet: u32 length (LE) of token + message; checksum: 8 bytes (XXH3-64, 7.x), 4 bytes (CRC32C,
  6.3 and before) or none (TLS); 16-byte endpoint token (FlowTransport.actor.cpp sendPacket).
  The checksum bytes here are placeholders (the agent does not verify them).
- Message (ObjectSerializer, FDB's flatbuffers): u32 root-table offset, u32 file_identifier, then
  vtables (u16 vtable size, u16 table size, u16 field offsets) and tables (i32 offset back to the
  vtable: vtable = table - value).
- file_identifiers: GetValueRequest 8454530, GetReadVersionRequest 838566, GetValueReply 1378929,
  GetReadVersionReply 15709388; a reply is ErrorOr<EnsureTable<T>>: (2 << 24) | id, a union whose
  type byte is 1 (Error) or 2 (the value); Error's field 0 is its u16 code (1007 transaction_too_old).
Run: python3 make_fixtures.py (deterministic). The kernel test (agent/tracer/l7_bpf_test.cc) builds
the same bytes in its python peer.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = bytes(range(0x10, 0x20))


def connect_packet(port=4500):
    body = struct.pack("<QHQIH", 0x1FDB00B072000000, port, 1, 0x7F000001, 0) + bytes(16)
    return struct.pack("<I", len(body)) + body


def packet(msg, width=8):
    # length counts token + message; checksum placeholder of `width` bytes
    return struct.pack("<I", 16 + len(msg)) + b"\xc5" * width + TOKEN + msg


def request(file_id, key=b""):
    # [0] root offset 16, [4] file_identifier, [8] vtable (size 6, table size 8, field0 at +4) + 2 pad,
    # [16] table: i32 8 (vtable at 16 - 8), [20] u32 offset to the key vector at 24, [24] u32 len + key
    vt = struct.pack("<HHH", 6, 8, 4) + b"\0\0"
    table = struct.pack("<iI", 8, 4)
    vec = struct.pack("<I", len(key)) + key
    return struct.pack("<II", 16, file_id) + vt + table + vec + b"\0" * (-len(vec) % 4)


def reply(base_id, error_code=None):
    # [0] root 16, [4] (2 << 24) | id, [8] vtable (size 8, table size 12, type at +8, value at +4),
    # [16] table: i32 8, [20] u32 offset to the value table (relative to 20), [24] u8 type + 3 pad;
    # the value: an Error table (vtable size 6, table size 8, code at +4) or an empty table.
    head = struct.pack("<II", 16, (2 << 24) | base_id) + struct.pack("<HHHH", 8, 12, 8, 4)
    if error_code is None:
        inner = struct.pack("<HH", 4, 4) + struct.pack("<i", 4)  # vtable at 28, table at 32
        value_table, tag = 32, 2
    else:
        inner = struct.pack("<HHH", 6, 8, 4) + b"\0\0" + struct.pack("<iH", 8, error_code) + b"\0\0"
        value_table, tag = 36, 1
    table = struct.pack("<iIB", 8, value_table - 20, tag) + b"\0\0\0"
    return head + table + inner


FIXTURES = {
    "connect_packet.bin": connect_packet(),
    # first write of a client: its ConnectPacket and a GetValueRequest (7.x, XXH3 checksum)
    "connect_get_value_request.bin": connect_packet() + packet(request(8454530, b"hello")),
    "get_value_request.bin": packet(request(8454530, b"hello")),
    "get_value_request_crc32c.bin": packet(request(8454530, b"hello"), 4),  # 6.3
    "get_value_request_tls.bin": packet(request(8454530, b"hello"), 0),  # TLS: no checksum
    "get_read_version_request.bin": packet(request(838566)),
    "get_value_reply_ok.bin": packet(reply(1378929)),
    "get_value_reply_error.bin": packet(reply(1378929, 1007)),
    "get_read_version_reply_ok.bin": packet(reply(15709388)),
    # two packets in one write (FlowTransport batches what is queued)
    "two_requests.bin": packet(request(838566)) + packet(request(8454530, b"k")),
}


def main():
    for name, data in FIXTURES.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        fuzz = os.path.join(HERE, "..", "fuzz", "foundationdb")
        os.makedirs(fuzz, exist_ok=True)
        with open(os.path.join(fuzz, name[:-4]), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
