#!/usr/bin/env python3
"""A minimal MySQL binary-protocol client (root, empty password) used only to produce fixtures:
COM_STMT_PREPARE / EXECUTE / CLOSE, a failing prepare, an execute of an unknown id, COM_QUIT.
Written from MySQL's "Client/Server Protocol" documentation."""
import socket
import struct
import sys
import time


def drain(s):
    data = b""
    s.settimeout(0.3)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data


def send(s, seq, payload):
    s.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload)


def main():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    drain(s)  # Handshake v10
    caps = 0x1 | 0x200 | 0x2000 | 0x8000 | 0x80000  # LONG_PASSWORD PROTOCOL_41 TRANSACTIONS SECURE_CONN PLUGIN_AUTH
    resp = struct.pack("<IIB23s", caps, 1 << 24, 33, b"") + b"root\0" + b"\0" + b"mysql_native_password\0"
    send(s, 1, resp)
    reply = drain(s)
    if reply[4:5] == b"\xfe":  # auth switch: empty password
        send(s, reply[3] + 1, b"")
        drain(s)
    send(s, 0, b"\x16" + b"SELECT ? + 1 AS x, 'prepared' AS tag")
    prep = drain(s)
    stmt_id = struct.unpack("<I", prep[5:9])[0]
    # COM_STMT_EXECUTE: id, flags 0, iteration 1, null bitmap, new-params-bound 1, LONGLONG, 41
    send(s, 0, b"\x17" + struct.pack("<IBI", stmt_id, 0, 1) + b"\x00" + b"\x01" + b"\x08\x00" + struct.pack("<q", 41))
    drain(s)
    send(s, 0, b"\x16" + b"SELECT FROM WHERE")
    drain(s)
    send(s, 0, b"\x17" + struct.pack("<IBI", 999, 0, 1))
    drain(s)
    send(s, 0, b"\x19" + struct.pack("<I", stmt_id))
    time.sleep(0.1)
    send(s, 0, b"\x01")
    drain(s)
    s.close()


if __name__ == "__main__":
    main()
