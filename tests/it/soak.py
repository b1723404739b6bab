#!/usr/bin/env python3
# soak.py PID ADMIN SOCKS ECHO THUMBS COUNT - mixed requests against one
# kinglet, one at a time, and its RSS along the way (SPEC 1: no growth).
#
# The mix, round-robin: a SOCKS5 CONNECT to the echo server with a 4 KB
# round trip; a thumbnail of the demo PNG and of the demo JPEG (keep-alive
# HTTP/1.1 on one thumbs connection); an admin /health. Prints
#   rss_after_1000 KB
#   rss_after_COUNT KB
#   errors N
# Bounded: every socket has a timeout and the run stops after 240 s.
import socket
import struct
import sys
import time

pid, admin, socks, echo, thumbs, count = sys.argv[1], *map(int, sys.argv[2:7])
deadline = time.time() + 240
PAYLOAD = bytes(range(256)) * 16


def rss():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


def socks_roundtrip():
    s = socket.create_connection(("127.0.0.1", socks), timeout=10)
    try:
        s.sendall(b"\x05\x01\x00")
        if recv_exact(s, 2) != b"\x05\x00":
            return False
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", echo))
        rep = recv_exact(s, 10)
        if rep[1] != 0:
            return False
        s.sendall(PAYLOAD)
        return recv_exact(s, len(PAYLOAD)) == PAYLOAD
    finally:
        s.close()


def http_get(s, path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            raise EOFError
        head += d
    h, _, body = head.partition(b"\r\n\r\n")
    status = int(h.split()[1])
    n = 0
    for line in h.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError
        body += d
    return status


def health():
    s = socket.create_connection(("127.0.0.1", admin), timeout=10)
    try:
        return http_get(s, "/health") == 200
    finally:
        s.close()


th = socket.create_connection(("127.0.0.1", thumbs), timeout=20)
paths = ["/insecure/rs:fit:120:120/plain/local:///demo.png@png",
         "/insecure/rs:fill:100:100/q:70/plain/local:///demo.jpg"]
errors = 0
rss_1000 = None
for i in range(count):
    if time.time() > deadline:
        print("deadline after %d requests" % i)
        break
    kind = i % 4
    try:
        if kind == 0:
            ok = socks_roundtrip()
        elif kind in (1, 2):
            try:
                ok = http_get(th, paths[kind - 1]) == 200
            except (EOFError, OSError):
                th.close()
                th = socket.create_connection(("127.0.0.1", thumbs), timeout=20)
                ok = http_get(th, paths[kind - 1]) == 200
        else:
            ok = health()
    except (OSError, EOFError):
        ok = False
    errors += not ok
    if i + 1 == 1000:
        rss_1000 = rss()
print("rss_after_1000", rss_1000)
print("rss_after_%d" % count, rss())
print("errors", errors)
