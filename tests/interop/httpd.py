#!/usr/bin/env python3
"""A small HTTP/1.1 server on the kernel's TCP for the client tests
(tests/interop/http_client_rfc.sh): python's http.server serving DIR with
keep-alive, plus a few endpoints that misbehave on purpose. Every request is
logged as "port=<client port> <request line> host=<Host>" to LOG.

  httpd.py PORT DIR LOG
    /short       Content-Length: 100000, 40,000 bytes sent, then close
    /chunkshort  a chunked body whose last chunk never comes, then close
    /redir/N     302 to /redir/N-1, and /redir/0 to /a.txt
    /abs         301 to the absolute URL of /a.txt
"""
import http.server
import socketserver
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self):
        with open(LOG, "a") as f:
            f.write("port=%d %s host=%s\n" %
                    (self.client_address[1], self.requestline, self.headers.get("Host")))

    def do_HEAD(self):
        self.note()
        super().do_HEAD()

    def do_GET(self):
        self.note()
        p = self.path
        if p == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"s" * 40000)
            self.wfile.flush()
            self.close_connection = True
        elif p == "/chunkshort":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"1000\r\n" + b"c" * 4096 + b"\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif p.startswith("/redir/"):
            n = int(p[7:])
            self.send_response(302)
            self.send_header("Location", "/redir/%d" % (n - 1) if n > 0 else "../a.txt")
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"redirect\n")
        elif p == "/abs":
            self.send_response(301)
            self.send_header("Location", "http://%s/a.txt" % self.headers.get("Host"))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            super().do_GET()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    port, root, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    import functools
    srv = Server(("0.0.0.0", port), functools.partial(Handler, directory=root))
    print("ready", flush=True)
    srv.serve_forever()
