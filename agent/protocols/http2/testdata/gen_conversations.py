#!/usr/bin/env python3
"""Writes HTTP/2 conversations produced by a real HTTP/2 implementation (the `h2` package from PyPI,
client and server state machines talking to each other in memory) as fixtures for stitch_test.cc.

Each file is a sequence of writes: 1 byte direction (0 client->server, 1 server->client), 4 bytes
little-endian length, then the bytes exactly as that side would have written them to its socket.
Run: python3 -m venv /tmp/h2 && /tmp/h2/bin/pip install h2==4.* && /tmp/h2/bin/python gen_conversations.py
"""
import os, struct, sys
import h2.config, h2.connection, h2.events

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conversations")


class Pair:
    def __init__(self, name):
        self.name = name
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.s = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.writes = []
        self.c.initiate_connection()
        self.flush()
        self.s.initiate_connection()
        self.flush()

    def flush(self):
        # Each side's pending bytes become one write; the peer receives them.
        for direction, src, dst in ((0, self.c, self.s), (1, self.s, self.c)):
            data = src.data_to_send()
            if data:
                self.writes.append((direction, data))
                dst.receive_data(data)

    def save(self):
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, self.name + ".bin"), "wb") as f:
            for d, data in self.writes:
                f.write(struct.pack("<BI", d, len(data)) + data)


def request(p, sid, method, path, extra=(), end=True):
    p.c.send_headers(sid, [(":method", method), (":path", path), (":scheme", "http"),
                           (":authority", "api.local:8080")] + list(extra), end_stream=end)


def simple():
    p = Pair("simple_get")
    request(p, 1, "GET", "/users/42?verbose=1", [("user-agent", "fixture/1.0"), ("accept", "application/json")])
    p.flush()
    p.s.send_headers(1, [(":status", "200"), ("content-type", "application/json")])
    p.s.send_data(1, b'{"id":42}', end_stream=True)
    p.flush()
    p.save()


def reuse():
    # The same headers again: the second and third requests use dynamic-table indexes.
    p = Pair("dynamic_table_reuse")
    for sid, path, status in ((1, "/a", "200"), (3, "/a", "404"), (5, "/b", "503")):
        request(p, sid, "POST", path, [("x-request-class", "batch"), ("cookie", "session=abcdef0123456789")], end=False)
        p.c.send_data(sid, b"payload", end_stream=True)
        p.flush()
        p.s.send_headers(sid, [(":status", status), ("x-served-by", "backend-7")], end_stream=True)
        p.flush()
    p.save()


def interleaved():
    # Three streams open at once, answered out of order.
    p = Pair("interleaved")
    for sid in (1, 3, 5):
        request(p, sid, "GET", "/item/%d" % sid)
    p.flush()
    for sid, status in ((5, "201"), (1, "200"), (3, "500")):
        p.s.send_headers(sid, [(":status", status)], end_stream=True)
        p.flush()
    p.save()


def grpc():
    p = Pair("grpc_unary")
    g = [("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", "1S")]
    msg = b"\x00" + struct.pack(">I", 5) + b"hello"
    # OK: headers, message, trailers in separate writes.
    request(p, 1, "POST", "/helloworld.Greeter/SayHello", g, end=False)
    p.c.send_data(1, msg, end_stream=True)
    p.flush()
    p.s.send_headers(1, [(":status", "200"), ("content-type", "application/grpc")])
    p.flush()
    p.s.send_data(1, msg)
    p.flush()
    p.s.send_headers(1, [("grpc-status", "0"), ("grpc-message", "")], end_stream=True)
    p.flush()
    # NOT_FOUND as Trailers-Only.
    request(p, 3, "POST", "/helloworld.Greeter/SayHello", g, end=False)
    p.c.send_data(3, msg, end_stream=True)
    p.flush()
    p.s.send_headers(3, [(":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "5"),
                         ("grpc-message", "no such greeter")], end_stream=True)
    p.flush()
    # Cancelled by the client after the response headers.
    request(p, 5, "POST", "/helloworld.Greeter/SayHelloStream", g, end=False)
    p.flush()
    p.s.send_headers(5, [(":status", "200"), ("content-type", "application/grpc")])
    p.flush()
    p.c.reset_stream(5, error_code=8)
    p.flush()
    p.save()


def continuation():
    # A header block larger than one frame (16 KiB): HEADERS + CONTINUATION.
    p = Pair("continuation")
    big = "x" * 20000
    request(p, 1, "GET", "/big", [("x-big", big)])
    p.flush()
    p.s.send_headers(1, [(":status", "200"), ("x-big-echo", big)], end_stream=True)
    p.flush()
    p.save()


if __name__ == "__main__":
    simple(); reuse(); interleaved(); grpc(); continuation()
    print("wrote", sorted(os.listdir(OUT)))
