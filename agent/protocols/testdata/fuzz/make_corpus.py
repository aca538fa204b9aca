#!/usr/bin/env python3
"""Builds the seed corpora in this folder: every chunk of the real captures (../real/*.bin) goes to
the folder of its protocol, plus hand-written DNS messages (RFC 1035 layout) and whole kernel l7
events wrapping a few of those payloads. Re-run after re-capturing; the output is deterministic."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "real")
PROTO_OF = {"clickhouse": "clickhouse", "http": "http", "redis": "redis", "memcached": "memcached", "postgres": "postgres", "mysql": "mysql"}
PROTO_ID = {"clickhouse": 14, "http": 1, "postgres": 2, "redis": 3, "memcached": 4, "mysql": 5, "dns": 13}


def chunks(path):
    d = open(path, "rb").read()
    i = 0
    while i < len(d):
        n = struct.unpack(">I", d[i + 2:i + 6])[0]
        yield d[i:i + 1], d[i + 6:i + 6 + n]
        i += 6 + n


def write(folder, name, data):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, folder, name), "wb") as f:
        f.write(data)


def event(proto, payload, status=200, stmt=0, fd=3):
    head = struct.pack("<QQIiQBBBBIQ", fd, 1, 100, status, 1500000, PROTO_ID[proto], 0, 0, 0, stmt, len(payload))
    return head + payload[:1024].ljust(1024, b"\0")


def main():
    requests = {}
    for fname in sorted(os.listdir(REAL)):
        if not fname.endswith(".bin"):
            continue
        proto = PROTO_OF[fname.split("_")[0]]
        for k, (direction, data) in enumerate(chunks(os.path.join(REAL, fname))):
            tag = "req" if direction == b">" else "resp"
            write(proto, "%s_%02d_%s" % (fname[:-4], k, tag), data)
            if tag == "req":
                requests.setdefault(proto, []).append(data)
    dns = {
        "query_a": bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001"),
        "resp_a2": bytes.fromhex("123481800001000200000000076578616d706c6503636f6d0000010001"
                                 "c00c000100010000e10000045db8d822c00c000100010000e1000004 0a000001".replace(" ", "")),
        "resp_nx": bytes.fromhex("000781830001000000000000046e6f7065076578616d706c6503636f6d0000010001"),
        "resp_aaaa": bytes.fromhex("abcd81800001000100000000046970763607" "6578616d706c6503636f6d00001c0001"
                                   "c00c001c00010000003c001020010db8000000000000000000000001"),
        "loop_self": bytes.fromhex("000101000001000000000000c00c00010001"),
        "loop_back": bytes.fromhex("00010100000100000000000001" "61" "c00c00010001"),
        # dnsmasq 2.90's answers as the kernel hands them over (agent_tracer_dns_bpf_test's records).
        "dnsmasq_a": bytes.fromhex("123485800001000100000000037376630474657374000001000"
                                   "1c00c000100010000000000040a010203"),
        "dnsmasq_aaaa_nx": bytes.fromhex("989581830001000000000000037376630474657374"
                                         "00001c0001"),
        "dnsmasq_aaaa_empty": bytes.fromhex("556681800001000000000000037369780474657374"
                                            "00001c0001"),
    }
    for name, data in dns.items():
        write("dns", name, data)
        write("dns", name + "_tcp", struct.pack(">H", len(data)) + data)
    # Hand-written from the protocols' documentation (same bytes as the unit tests).
    zk = {"get_data": bytes.fromhex("000000180000000500000004") + b"\0\0\0\x0b/app/config\0",
          "ping": bytes.fromhex("00000008fffffffe0000000b"),
          "reply_nonode": bytes.fromhex("00000010000000050000000000000002affffff9b".replace("a", "")),
          "reply_ok": bytes.fromhex("000000100000000500000000000000" "2a00000000")}
    for name, data in zk.items():
        write("zookeeper", name, data)
    kafka = {"metadata_v1": bytes.fromhex("000000110003000100000007") + b"\0\x03cli\xff\xff\xff\xff",
             "response": bytes.fromhex("000000080000000700000000")}
    for name, data in kafka.items():
        write("kafka", name, data)
    nats = {"pub": b"PUB orders.new 5\r\nhello\r\n", "pub_reply": b"PUB a.b _INBOX.1 3\r\nabc\r\n",
            "hpub": b"HPUB s 22 27\r\nNATS/1.0\r\nK: V\r\n\r\n\r\nhello\r\n", "msg": b"MSG orders.new 9 5\r\nhello\r\n",
            "hmsg": b"HMSG s 1 reply 22 27\r\n"}
    # Batches in one syscall (CountMessages): a client's publishes, a server's coalesced deliveries.
    nats["pub_batch"] = nats["pub"] + b"PING\r\n" + nats["hpub"] + nats["pub_reply"]
    nats["msg_batch"] = nats["msg"] * 3 + b"PONG\r\n" + b"MSG a 1 4\r\n\r\n\r\n\r\n"
    for name, data in nats.items():
        write("nats", name, data)
    for name in ("mongo_find.bin", "mongo_insert.bin"):
        data = open(os.path.join(HERE, "..", "mongo", name), "rb").read()
        write("mongo", name[:-4], data)
        write("mongo", name[:-4] + "_body", data[21:])  # the bare BSON body
        requests.setdefault("mongo", []).append(data)
    amqp = {"publish": bytes.fromhex("0100010000001600 3c00280000 06".replace(" ", "")) + b"orders\x07created\x00\xce",
            "deliver": bytes.fromhex("010001000000210 03c003c04".replace(" ", "")) + b"ctag" + bytes(7) + b"\x01\x00\x06orders\x07created\xce"}
    content = bytes.fromhex("0200010000000e 003c0000 0000000000000002 0000 ce".replace(" ", "")) + bytes.fromhex("0300010000000268 69ce".replace(" ", ""))
    consume_ok = bytes.fromhex("01000100000009 003c0015 04".replace(" ", "")) + b"ctag\xce"
    amqp["deliver_burst"] = consume_ok + (amqp["deliver"] + content) * 3
    amqp["publish_batch"] = (amqp["publish"] + content) * 2 + bytes.fromhex("0800000000000000ce")  # + heartbeat
    for name, data in amqp.items():
        write("rabbitmq", name, data)
    cql = {"query": bytes.fromhex("040000050700000016 0000000f".replace(" ", "")) + b"SELECT * FROM t\x00\x01\x00",
           "execute": bytes.fromhex("04000006 0a00000007 0002abcd000100".replace(" ", "")),
           "result": bytes.fromhex("840000050800000004 00000001".replace(" ", "")),
           "error": bytes.fromhex("840000060000000006 000022000000".replace(" ", ""))}
    for name, data in cql.items():
        write("cassandra", name, data)
    # ClickHouse Query at revision 54460: 36-char query id, an 8-byte start time before the
    # interface (the kernel detector's second layout), no compression.
    def chs(b): return bytes([len(b)]) + b
    ch = {"query_54460": b"\x01" + chs(b"0123456789abcdef0123456789abcdef0123") + b"\x01\x00\x00" +
          chs(b"127.0.0.1:45678") + bytes(range(1, 9)) + b"\x01" + chs(b"root") + chs(b"host") +
          chs(b"ClickHouse client") + b"\x17\x08\xbc\xa9\x03" + b"\x00\x00\x05\x00\x00\x00\x00" +
          b"\x00\x00\x02\x00" + chs(b"SELECT 1")}
    for name, data in ch.items():
        write("clickhouse", name, data)
    dubbo = {"request": bytes.fromhex("dabbc2000000000000000007" "0000002b") + b"\x052.0.2\x15org.demo.GreetService\x051.0.0\x08sayHello",
             "response_ok": bytes.fromhex("dabb02140000000000000007 0000000191".replace(" ", "")),
             "response_err": bytes.fromhex("dabb02460000000000000008 00000000".replace(" ", ""))}
    for name, data in dubbo.items():
        write("dubbo", name, data)
    requests["dubbo"] = [dubbo["request"]]
    requests["rabbitmq"] = [amqp["publish"]]
    requests["cassandra"] = [cql["query"], cql["execute"]]
    PROTO_ID.update({"dubbo": 12, "rabbitmq": 9, "cassandra": 8, "mongo": 6, "kafka": 7, "nats": 10, "zookeeper": 15})
    requests["zookeeper"] = [zk["get_data"], zk["ping"]]
    requests["kafka"] = [kafka["metadata_v1"]]
    requests["nats"] = [nats["pub"], nats["msg"]]
    for proto, reqs in sorted(requests.items()):
        for k, payload in enumerate(reqs[:4]):
            write("event", "%s_%d" % (proto, k), event(proto, payload, stmt=1 if proto == "mysql" else 0))
    write("event", "dns_0", event("dns", dns["resp_a2"], status=0))
    write("event", "dns_nxdomain", event("dns", dns["dnsmasq_aaaa_nx"], status=3))
    write("event", "http_cut", event("http", b"GET /" + b"a" * 1100, status=404))


if __name__ == "__main__":
    main()
