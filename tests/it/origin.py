#!/usr/bin/env python3
# origin.py - a small HTTP origin on loopback for the thumbs tests, with
# misbehaviours on demand. Usage: origin.py PORT ROOT
#
#   /f/NAME          the file, Content-Length and Last-Modified
#   /chunked/NAME    the file in chunked transfer coding (4 KB chunks)
#   /noclen/NAME     the file with neither length nor chunking; ends at close
#   /trickle/NAME    the file in 1 KB pieces, 10 ms apart
#   /stall/NAME      the head and 1 KB, then nothing for 60 s
#   /early/NAME      announces the whole length, sends half, closes
#   /more/NAME       announces the file's length, sends it plus 4 KB of junk
#   /huge            announces 1 GB, sends a few bytes
#   /bigchunked/NAME the file repeated 64 times, chunked (no announced length)
#   /status/CODE     answers CODE with a short body
#   /loop/N          302 to /loop/N+1, forever
#   /redir/K/NAME    K redirects (relative Location), then the file
#   /to/URL          302 to URL (absolute, e.g. an https origin)
import os
import socketserver
import sys
import time
from email.utils import formatdate

ROOT = sys.argv[2]


def read_file(name):
    path = os.path.realpath(os.path.join(ROOT, name))
    if not path.startswith(os.path.realpath(ROOT) + os.sep) or not os.path.isfile(path):
        return None, None
    with open(path, "rb") as f:
        return f.read(), os.path.getmtime(path)


class Handler(socketserver.BaseRequestHandler):
    def send(self, b):
        self.request.sendall(b)

    def head(self, status, headers):
        lines = ["HTTP/1.1 %s" % status] + ["%s: %s" % kv for kv in headers] + ["Connection: close", "", ""]
        self.send("\r\n".join(lines).encode())

    def handle(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
        line = data.split(b"\r\n", 1)[0].decode()
        path = line.split(" ")[1]
        parts = path.lstrip("/").split("/", 1)
        kind, rest = parts[0], parts[1] if len(parts) > 1 else ""
        try:
            self.route(kind, rest)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, kind, rest):
        if kind == "status":
            body = b"origin says %s\n" % rest.encode()
            self.head("%s Whatever" % rest, [("Content-Type", "text/plain"), ("Content-Length", len(body))])
            self.send(body)
            return
        if kind == "loop":
            n = int(rest or 0)
            self.head("302 Found", [("Location", "/loop/%d" % (n + 1)), ("Content-Length", 0)])
            return
        if kind == "to":
            self.head("302 Found", [("Location", rest), ("Content-Length", 0)])
            return
        if kind == "redir":
            k, name = rest.split("/", 1)
            k = int(k)
            loc = "/redir/%d/%s" % (k - 1, name) if k > 1 else "/f/" + name
            self.head("301 Moved Permanently", [("Location", loc), ("Content-Length", 0)])
            return
        if kind == "huge":
            self.head("200 OK", [("Content-Type", "image/jpeg"), ("Content-Length", 1 << 30)])
            self.send(b"\xff\xd8\xff")
            return
        body, mtime = read_file(rest)
        if body is None:
            self.head("404 Not Found", [("Content-Length", 0)])
            return
        lm = formatdate(mtime, usegmt=True)
        ctype = "image/png" if rest.endswith(".png") else "image/jpeg"
        base = [("Content-Type", ctype), ("Last-Modified", lm)]
        if kind == "f":
            self.head("200 OK", base + [("Content-Length", len(body))])
            self.send(body)
        elif kind == "chunked" or kind == "bigchunked":
            self.head("200 OK", base + [("Transfer-Encoding", "chunked")])
            reps = 64 if kind == "bigchunked" else 1
            for _ in range(reps):
                for i in range(0, len(body), 4096):
                    piece = body[i:i + 4096]
                    self.send(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            self.send(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif kind == "noclen":
            self.head("200 OK", base)
            self.send(body)
        elif kind == "trickle":
            self.head("200 OK", base + [("Content-Length", len(body))])
            for i in range(0, len(body), 1024):
                self.send(body[i:i + 1024])
                time.sleep(0.01)
        elif kind == "stall":
            self.head("200 OK", base + [("Content-Length", len(body))])
            self.send(body[:1024])
            time.sleep(60)
        elif kind == "early":
            self.head("200 OK", base + [("Content-Length", len(body))])
            self.send(body[: len(body) // 2])
        elif kind == "more":
            self.head("200 OK", base + [("Content-Length", len(body))])
            self.send(body + b"\0junk" * 820)
        else:
            self.head("404 Not Found", [("Content-Length", 0)])


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
