#!/usr/bin/env python3
"""CPU time and RSS per /metrics scrape: our coroot-node-agent beside Debian's
prometheus-node-exporter (default collectors), both started here and scraped the same number of
times in the same run. Prints one table; it asserts nothing."""
import os, socket, subprocess, sys, tempfile, time, urllib.request

SCRAPES = int(os.environ.get("SCRAPES", "200"))
CLK = os.sysconf("SC_CLK_TCK")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / CLK  # utime + stime

def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])
    return 0

def wait_ok(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).read(); return
        except Exception: time.sleep(0.05)
    raise SystemExit(f"not ready: {url}")

def measure(name, argv, url):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ok(url)
        for _ in range(5): urllib.request.urlopen(url).read()  # warm up
        c0, t0 = cpu_seconds(p.pid), time.monotonic()
        size = samples = 0
        for _ in range(SCRAPES):
            body = urllib.request.urlopen(url).read()
            size = len(body)
        wall = time.monotonic() - t0
        cpu = cpu_seconds(p.pid) - c0
        samples = sum(1 for l in body.decode().splitlines() if l and not l.startswith("#"))
        return dict(name=name, cpu_ms=cpu / SCRAPES * 1000, wall_ms=wall / SCRAPES * 1000,
                    rss_mb=rss_kb(p.pid) / 1024, samples=samples, bytes=size)
    finally:
        p.terminate(); p.wait()

def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "build")
    ap, np_ = free_port(), free_port()
    with tempfile.TemporaryDirectory() as wal:
        rows = [
            measure("coroot-node-agent (ours)",
                    [os.path.join(build, "agent/coroot-node-agent"), f"--listen=127.0.0.1:{ap}", f"--wal-dir={wal}"],
                    f"http://127.0.0.1:{ap}/metrics"),
            measure("prometheus-node-exporter 1.5 (baseline)",
                    ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{np_}"],
                    f"http://127.0.0.1:{np_}/metrics"),
        ]
    print(f"{SCRAPES} scrapes each, same machine, same run")
    print(f"{'program':42} {'CPU ms/scrape':>14} {'CPU us/sample':>14} {'wall ms':>8} {'RSS MB':>7} {'samples':>8} {'bytes':>8}")
    for r in rows:
        per_sample = r['cpu_ms'] * 1000 / max(r['samples'], 1)
        print(f"{r['name']:42} {r['cpu_ms']:14.3f} {per_sample:14.2f} {r['wall_ms']:8.2f} {r['rss_mb']:7.1f} {r['samples']:8d} {r['bytes']:8d}")

if __name__ == "__main__":
    main()
