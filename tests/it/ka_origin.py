#!/usr/bin/env python3
"""ka_origin.py PORT DIR - a keep-alive HTTP/1.1 origin for the relay tests.

GET/HEAD /f/NAME      DIR/NAME with Content-Length (304 when If-None-Match matches)
GET/HEAD /chunked/NAME DIR/NAME in chunks of uneven sizes
GET /close/NAME       DIR/NAME without length: the body ends with the close
POST /echo            the request body back (Content-Length or chunked request)
GET /conns            how many TCP connections the origin has accepted
Every response carries Keep-Alive and a Connection-listed field, which a
proxy must drop.
"""
import http.server
import os
import socketserver
import sys
import threading

port, root = int(sys.argv[1]), sys.argv[2]
conns = 0
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global conns
        with lock:
            conns += 1
        super().setup()

    def log_message(self, *a):
        pass

    def hop(self):
        self.send_header("Keep-Alive", "timeout=30")
        self.send_header("Connection", "X-Secret")
        self.send_header("X-Secret", "dropped by the proxy")

    def body_of(self):
        name = os.path.basename(self.path.rsplit("/", 1)[-1])
        with open(os.path.join(root, name), "rb") as f:
            return f.read()

    def send_plain(self, body, head_only):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        self.hop()
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def serve(self, head_only):
        p = self.path
        if p == "/conns":
            self.send_plain(str(conns).encode(), head_only)
        elif p.startswith("/f/"):
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.hop()
                self.end_headers()
                return
            self.send_plain(self.body_of(), head_only)
        elif p.startswith("/chunked/"):
            body = self.body_of()
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.hop()
            self.end_headers()
            if head_only:
                return
            i, step = 0, 1
            while i < len(body):
                part = body[i:i + step]
                self.wfile.write(b"%x;ext=1\r\n" % len(part) + part + b"\r\n")
                i += len(part)
                step = step * 7 % 40000 + 1
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        elif p.startswith("/close/"):
            body = self.body_of()
            self.send_response(200)
            self.hop()
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            self.send_error(404)

    def do_GET(self):
        self.serve(False)

    def do_HEAD(self):
        self.serve(True)

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self.rfile.read(n)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_plain(body, False)


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


S(("127.0.0.1", port), H).serve_forever()
