#!/usr/bin/env python3
# https_origin.py - an https origin on loopback for the thumbs tests.
# Usage: https_origin.py ADDR PORT CERT KEY ROOT
#
#   /f/NAME        the file under ROOT (Content-Length, Last-Modified)
#   /to/URL        302 to URL (absolute: http:// or https://)
#   /stall/NAME    the head, then nothing for 30 s (holds a TLS session)
#
# The TLS handshake runs in each connection's thread, so a client that
# refuses the certificate or stalls never blocks the others.
import http.server
import os
import socket
import socketserver
import ssl
import sys
import time
from email.utils import formatdate

ADDR, PORT, CERT, KEY, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CTX.load_cert_chain(CERT, KEY)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.request.settimeout(30)
        self.request = CTX.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, fmt, *args):
        sys.stderr.write("https-origin %s\n" % (fmt % args))

    def file(self, name):
        path = os.path.realpath(os.path.join(ROOT, name))
        if not path.startswith(os.path.realpath(ROOT) + os.sep) or not os.path.isfile(path):
            return None, None
        with open(path, "rb") as f:
            return f.read(), os.path.getmtime(path)

    def do_GET(self):
        kind, _, rest = self.path.lstrip("/").partition("/")
        if kind == "to":
            self.send_response(302)
            self.send_header("Location", rest)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        body, mtime = self.file(rest)
        if body is None or kind not in ("f", "stall"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png" if rest.endswith(".png") else "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
        self.send_header("Connection", "close")
        self.end_headers()
        if kind == "stall":
            self.wfile.flush()
            time.sleep(30)
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    address_family = socket.AF_INET6 if ":" in ADDR else socket.AF_INET

    def handle_error(self, request, client_address):
        sys.stderr.write("https-origin %s: %s\n" % (client_address[0], sys.exc_info()[1]))


if __name__ == "__main__":
    Server((ADDR, PORT), Handler).serve_forever()
