#!/usr/bin/env python3
"""A TCP relay that records both directions of one connection, for L7 parser fixtures.

usage: relay.py LISTEN_PORT UPSTREAM_PORT OUT_FILE [--connections N]

Listens on 127.0.0.1:LISTEN_PORT, forwards each accepted connection to 127.0.0.1:UPSTREAM_PORT and
appends every chunk it reads to OUT_FILE as one record:
    1 byte direction ('>' client to server, '<' server to client),
    1 byte connection index (0-based, in accept order),
    4 bytes big-endian length, then the bytes.
A chunk is what one recv() returned, so record boundaries follow the peers' writes closely
(loopback, small messages) but are not guaranteed to match them. Exits after N connections closed.
"""
import select
import socket
import struct
import sys


def main():
    listen_port, upstream_port, out_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    conns = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--connections" else 1
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(8)
    print("ready", flush=True)
    with open(out_path, "wb") as out:
        for idx in range(conns):
            client, _ = srv.accept()
            upstream = socket.create_connection(("127.0.0.1", upstream_port))
            peers = {client: (upstream, b">"), upstream: (client, b"<")}
            open_socks = [client, upstream]
            while len(open_socks) == 2:
                ready, _, _ = select.select(open_socks, [], [], 10)
                if not ready:
                    break
                for s in ready:
                    data = s.recv(65536)
                    other, direction = peers[s]
                    if not data:
                        open_socks = []
                        break
                    out.write(direction + bytes([idx]) + struct.pack(">I", len(data)) + data)
                    out.flush()
                    other.sendall(data)
            client.close()
            upstream.close()


if __name__ == "__main__":
    main()
