#!/usr/bin/env python3
"""The kernel's side of the interop tests: small TCP servers and a client on
the Linux kernel's own TCP, run inside the test's network namespace.

  kpeer.py echo PORT          echo every byte as it comes; close after the peer's FIN
  kpeer.py reply PORT         read until the peer's FIN (half-close), then send
                              everything back and close: data after a FIN
  kpeer.py drain PORT         read until the peer's FIN, then close 0.2 s later
                              (passive close; the peer sees FIN-WAIT-2)
  kpeer.py closer PORT        accept and close at once (active close, no data)
  kpeer.py http PORT DIR [--http11] [--cc NAME] [--tcpinfo]
                              static files from DIR; HTTP/1.0 sends no Content-Length
                              and closes after each response, which ends the body
                              (RFC 9112 §6.3), so the kernel always closes first (with
                              a length, a client may close as soon as the body is in,
                              before the server's FIN: the order would be a race);
                              HTTP/1.1 keeps the connection open until the client
                              closes; --cc sets the
                              congestion control of the listener (TCP_CONGESTION,
                              inherited by its connections), e.g. cubic or reno
                              instead of the host's default (bbr on these machines);
                              --tcpinfo prints each connection's ECN counters
                              (see ecn_info) when it ends
  kpeer.py get ADDR PORT PATH --out FILE [--cc NAME]
                              one HTTP/1.1 GET on a socket with congestion control
                              NAME, the body to FILE; prints the ECN counters and
                              "status N"; exit 0 only for a whole 200
  kpeer.py load ADDR PORT PATH [--count N] [--parallel P] [--close]
                              N short connections, P at a time, each one GET of
                              PATH: with --close the request says Connection: close
                              (synfin closes first), otherwise the client closes
                              right after the response (the kernel closes first);
                              prints "ok N failed M"; exit 0 only if all got 200
  kpeer.py client ADDR PORT [--send N] [--shutdown] [--recv N]
                              connect, send N bytes, shut down writing (with
                              --shutdown), read until the peer's FIN (or, with
                              --recv, N bytes and then close first); prints
                              "received N" or "refused" (exit 3)

Servers bind 0.0.0.0, print "ready" once listening, serve connections in
threads and exit by themselves after --lifetime seconds (default 300).
"""
import argparse
import functools
import http.server
import os
import socket
import sys
import threading
import time


def serve(port, handle, lifetime):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    print("ready", flush=True)
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def h_echo(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)


def h_reply(c):
    with c:
        chunks = []
        while True:
            d = c.recv(65536)
            if not d:
                break
            chunks.append(d)
        c.sendall(b"".join(chunks))


def h_drain(c):
    with c:
        while c.recv(65536):
            pass
        time.sleep(0.2)  # the peer sits in FIN-WAIT-2 meanwhile


def h_closer(c):
    c.close()


def client(addr, port, send, shutdown, recv):
    s = socket.socket()
    s.settimeout(30)
    try:
        s.connect((addr, port))
    except ConnectionRefusedError:
        print("refused", flush=True)
        return 3
    if send:
        s.sendall(b"k" * send)
    if shutdown:
        s.shutdown(socket.SHUT_WR)
    n = 0
    while recv is None or n < recv:
        d = s.recv(65536)
        if not d:
            break
        n += len(d)
    s.close()
    print("received %d" % n, flush=True)
    return 0


def get_once(addr, port, path, close):
    """One connection, one GET; returns True for a complete 200 response."""
    s = socket.create_connection((addr, port), timeout=20)
    with s:
        req = "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
            path, addr, "Connection: close\r\n" if close else "")
        s.sendall(req.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return False
            buf += d
        head, body = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        length = None
        for h in lines[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        while length is not None and len(body) < length:
            d = s.recv(65536)
            if not d:
                return False
            body += d
        if close:  # the server closes: its FIN arrives before ours
            while s.recv(65536):
                pass
        return lines[0].split()[1] == "200" and length == len(body)


def ecn_info(s):
    """The kernel's ECN counters of socket s (struct tcp_info, Linux 6.18):
    delivered_ce = CE marks the peer fed back (ECE rounds or AccECN's ACE
    counter), received_ce = CE-marked segments this side received."""
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 280)
    if len(b) < 252:
        return "tcpinfo short=%d" % len(b)
    return "tcpinfo delivered_ce=%d received_ce=%d" % (
        int.from_bytes(b[196:200], "little"), int.from_bytes(b[248:252], "little"))


def get(addr, port, path, out, cc):
    s = socket.socket()
    s.settimeout(60)
    if cc:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    s.connect((addr, port))
    with s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                   % (path, addr)).encode())
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        print(ecn_info(s), flush=True)
    head, _, body = buf.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode() if head else "none"
    with open(out, "wb") as f:
        f.write(body)
    print("status %s" % status, flush=True)
    return 0 if status == "200" else 1


def load(addr, port, path, count, parallel, close):
    import concurrent.futures
    ok = failed = 0

    def one(_):
        try:
            return get_once(addr, port, path, close)
        except OSError:
            return False
    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        for r in ex.map(one, range(count)):
            ok, failed = ok + bool(r), failed + (not r)
    print("ok %d failed %d" % (ok, failed), flush=True)
    return 0 if failed == 0 else 1


class Quiet(http.server.SimpleHTTPRequestHandler):
    tcpinfo = False

    def log_message(self, *args):
        pass

    def finish(self):
        if self.tcpinfo:
            try:
                print(ecn_info(self.connection), flush=True)
            except OSError:
                pass
        super().finish()

    def send_header(self, keyword, value):
        if self.protocol_version == "HTTP/1.0" and keyword.lower() == "content-length":
            return  # the close ends the body (see "http" above)
        super().send_header(keyword, value)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["echo", "reply", "drain", "closer", "http", "client",
                                       "load", "get"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--http11", action="store_true")
    ap.add_argument("--send", type=int, default=0)
    ap.add_argument("--shutdown", action="store_true")
    ap.add_argument("--recv", type=int)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--close", action="store_true")
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--cc")
    ap.add_argument("--tcpinfo", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.mode == "load":
        return load(a.args[0], int(a.args[1]), a.args[2], a.count, a.parallel, a.close)
    if a.mode == "get":
        return get(a.args[0], int(a.args[1]), a.args[2], a.out, a.cc)
    if a.mode == "client":
        return client(a.args[0], int(a.args[1]), a.send, a.shutdown, a.recv)
    port = int(a.args[0])
    if a.mode == "http":
        Quiet.protocol_version = "HTTP/1.1" if a.http11 else "HTTP/1.0"
        Quiet.tcpinfo = a.tcpinfo
        handler = functools.partial(Quiet, directory=a.args[1])
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        http.server.ThreadingHTTPServer.request_queue_size = 128
        srv = http.server.ThreadingHTTPServer(("0.0.0.0", port), handler)
        srv.daemon_threads = True
        if a.cc:
            srv.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, a.cc.encode())
        print("ready", flush=True)
        threading.Timer(a.lifetime, lambda: os._exit(0)).start()
        srv.serve_forever()
        return 0
    serve(port, {"echo": h_echo, "reply": h_reply, "drain": h_drain,
                 "closer": h_closer}[a.mode], a.lifetime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
