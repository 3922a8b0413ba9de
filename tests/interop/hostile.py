#!/usr/bin/env python3
"""Hostile HTTP clients for the interop suite (tests/interop/hostile_*.sh).

Each mode attacks HOST:PORT from the kernel's TCP for a bounded time and
prints one line of what it saw; the shell test meanwhile checks that a
legitimate curl is still served. Every mode stops by itself.

  hold HOST PORT --idle N --slow M --seconds S [--ready FILE]
      N connections that send nothing, M slowloris connections that send
      a request head one byte per second and never finish it. Writes
      "ready" to FILE once all are connected. Prints how many of each the
      server closed and how many 408s the slow ones got.
  bomb HOST PORT --kind header|url|pipeline --conns N --seconds S
      header: a request with megabytes of header lines; url: a megabyte
      request-target; pipeline: 20,000 pipelined GETs written without
      reading. Prints the status lines seen.
  zerowin HOST PORT PATH --seconds S [--ready FILE]
      requests PATH with a tiny receive buffer and never reads; prints
      whether the server closed (RST/FIN) within S seconds.
  metrics URL
      fetches a Prometheus text page, parses it with prometheus_client's
      parser (python3-prometheus-client) and prints each sample as
      "name{labels} value", sorted.
"""
import argparse
import errno
import os
import selectors
import socket
import sys
import time


def connect_many(host, port, n, rcvbuf=None):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, os.strerror(rc))
        socks.append(s)
    return socks


def wait_connected(socks, deadline):
    """Waits until every socket is connected (or the deadline); returns how many are."""
    sel = selectors.DefaultSelector()
    pending = set()
    for s in socks:
        sel.register(s, selectors.EVENT_WRITE)
        pending.add(s)
    ok = 0
    while pending and time.time() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            sel.unregister(s)
            pending.discard(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                ok += 1
    sel.close()
    return ok


def closed(s):
    """True when the server closed s (FIN or RST); reads and discards."""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True, b""
            return False, d
    except BlockingIOError:
        return False, b""
    except OSError:
        return True, b""


def mode_hold(a):
    # Opened 500 at a time: a burst of thousands of SYNs at once overflows
    # any SYN queue, and the kernel's retries back off for seconds.
    idle, slow, up = [], [], 0
    for want, into in ((a.slow, slow), (a.idle, idle)):
        while len(into) < want:
            batch = connect_many(a.host, a.port, min(500, want - len(into)))
            up += wait_connected(batch, time.time() + 5)
            into.extend(batch)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready %d\n" % up)
    head = b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Slow: " + b"a" * 4000
    pos = 0
    idle_closed = slow_closed = got408 = 0
    dead = set()
    end = time.time() + a.seconds
    while time.time() < end:
        for s in slow:
            if s in dead:
                continue
            try:
                s.send(head[pos:pos + 1])
            except OSError:
                pass
            c, d = closed(s)
            if b" 408 " in d:
                got408 += 1
            if c:
                dead.add(s)
                slow_closed += 1
        for s in idle:
            if s in dead:
                continue
            c, _ = closed(s)
            if c:
                dead.add(s)
                idle_closed += 1
        pos = (pos + 1) % len(head)
        time.sleep(1.0)
    print("connected=%d idle=%d idle_closed=%d slow=%d slow_closed=%d got408=%d" %
          (up, len(idle), idle_closed, len(slow), slow_closed, got408))
    for s in idle + slow:
        s.close()


def mode_bomb(a):
    if a.kind == "header":
        req = b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Bomb: " + b"b" * 100 + b"\r\n"
        req += b"".join(b"X-%d: %s\r\n" % (i, b"c" * 60) for i in range(30000))
        req += b"\r\n"
    elif a.kind == "url":
        req = b"GET /" + b"u" * (1 << 20) + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    else:
        req = b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n" * 20000
    socks = connect_many(a.host, a.port, a.conns)
    wait_connected(socks, time.time() + 5)
    offs = {s: 0 for s in socks}
    got = {}
    end = time.time() + a.seconds
    live = set(socks)
    while live and time.time() < end:
        for s in list(live):
            if offs[s] < len(req):
                try:
                    offs[s] += s.send(req[offs[s]:offs[s] + 65536])
                except BlockingIOError:
                    pass
                except OSError:
                    live.discard(s)
                    continue
            if a.kind != "pipeline":
                c, d = closed(s)
                for line in d.split(b"\r\n"):
                    if line.startswith(b"HTTP/1.1 "):
                        got[line[9:12].decode()] = got.get(line[9:12].decode(), 0) + 1
                if c:
                    live.discard(s)
        time.sleep(0.05)
    sent = sum(offs.values())
    print("sent=%d statuses=%s open=%d" %
          (sent, ",".join("%s=%d" % kv for kv in sorted(got.items())) or "-", len(live)))
    for s in socks:
        s.close()


def mode_zerowin(a):
    (s,) = connect_many(a.host, a.port, 1, rcvbuf=2048)
    wait_connected([s], time.time() + 5)
    s.setblocking(True)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % a.path.encode())
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    time.sleep(a.seconds)
    # The server gave up on us when what it queued stopped short of the file.
    s.setblocking(False)
    total, reset = 0, False
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            total += len(d)
    except BlockingIOError:
        pass
    except ConnectionResetError:
        reset = True
    print("read=%d reset=%d" % (total, int(reset)))
    s.close()


def mode_metrics(a):
    import urllib.request
    from prometheus_client.parser import text_string_to_metric_families
    text = urllib.request.urlopen(a.url, timeout=5).read().decode()
    out = []
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            labels = ",".join('%s="%s"' % kv for kv in sorted(smp.labels.items()))
            out.append("%s{%s} %s" % (smp.name, labels, repr(float(smp.value))))
    print("\n".join(sorted(out)))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    h = sub.add_parser("hold")
    h.add_argument("host")
    h.add_argument("port", type=int)
    h.add_argument("--idle", type=int, default=0)
    h.add_argument("--slow", type=int, default=0)
    h.add_argument("--seconds", type=float, default=10)
    h.add_argument("--ready")
    b = sub.add_parser("bomb")
    b.add_argument("host")
    b.add_argument("port", type=int)
    b.add_argument("--kind", choices=["header", "url", "pipeline"], required=True)
    b.add_argument("--conns", type=int, default=1)
    b.add_argument("--seconds", type=float, default=5)
    z = sub.add_parser("zerowin")
    z.add_argument("host")
    z.add_argument("port", type=int)
    z.add_argument("path")
    z.add_argument("--seconds", type=float, default=5)
    z.add_argument("--ready")
    m = sub.add_parser("metrics")
    m.add_argument("url")
    a = p.parse_args()
    {"hold": mode_hold, "bomb": mode_bomb, "zerowin": mode_zerowin,
     "metrics": mode_metrics}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
