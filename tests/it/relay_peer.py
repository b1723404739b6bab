#!/usr/bin/env python3
# relay_peer.py - the far ends of relay tests: servers (sink, source, echo)
# and clients (push / pull through socks5, http CONNECT or a plain forward,
# raw protocol probes). Loopback only; every wait has a timeout.
#
#   serve PORT MODE [HOST]        sink: read to EOF, answer the sha256 hex, close
#                                 source:N  send N pseudo-random bytes, close
#                                 echo: echo back until EOF, then close
#   push  VIA KIND DST_HOST DST_PORT NBYTES [USER PASS]
#                                 send NBYTES, shut the write side, print the reply
#                                 line and the sha256 of what was sent
#   pull  VIA KIND DST_HOST DST_PORT RATE_BPS SECONDS
#                                 read at RATE_BPS for SECONDS; print bytes read
#   probe VIA HEX                 send raw bytes, print the reply as hex ("" on EOF)
# VIA is host:port of kinglet; KIND is socks5, connect or forward.
import hashlib
import os
import socket
import struct
import sys
import threading
import time


def pattern(n):
    # deterministic, incompressible enough, cheap: sha256 counter blocks
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(i.to_bytes(8, "big")).digest() * 64
        i += 1
    return bytes(out[:n])


BLOCK = pattern(1 << 20)


def serve(port, mode, host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(64)

    def handle(c):
        try:
            c.settimeout(120)
            if mode == "sink":
                h = hashlib.sha256()
                n = 0
                while True:
                    b = c.recv(1 << 16)
                    if not b:
                        break
                    h.update(b)
                    n += len(b)
                c.sendall(("%s %d\n" % (h.hexdigest(), n)).encode())
            elif mode.startswith("source:"):
                left = int(mode.split(":")[1])
                while left > 0:
                    k = min(left, len(BLOCK))
                    c.sendall(BLOCK[:k])
                    left -= k
            elif mode == "echo":
                while True:
                    b = c.recv(1 << 16)
                    if not b:
                        break
                    c.sendall(b)
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        k = s.recv(n - len(b))
        if not k:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += k
    return b


def open_via(via, kind, host, port, user=None, pw=None):
    vh, vp = via.rsplit(":", 1)
    s = socket.create_connection((vh, int(vp)), timeout=30)
    if kind == "forward":
        return s
    if kind == "connect":
        hp = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        req = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (hp, hp)
        if user:
            import base64
            req += "Proxy-Authorization: Basic %s\r\n" % base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
        s.sendall((req + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            k = s.recv(1)
            if not k:
                raise EOFError("proxy closed: %r" % head)
            head += k
        if b" 200 " not in head.split(b"\r\n")[0]:
            raise EOFError("proxy said %r" % head.split(b"\r\n")[0])
        return s
    # socks5
    s.sendall(b"\x05\x01" + (b"\x02" if user else b"\x00"))
    ver, m = recv_exact(s, 2)
    if m == 2:
        u, p = user.encode(), pw.encode()
        s.sendall(b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
        if recv_exact(s, 2)[1] != 0:
            raise EOFError("auth refused")
    elif m != 0:
        raise EOFError("method refused")
    try:
        addr = b"\x01" + socket.inet_pton(socket.AF_INET, host)
    except OSError:
        try:
            addr = b"\x04" + socket.inet_pton(socket.AF_INET6, host)
        except OSError:
            addr = b"\x03" + bytes([len(host)]) + host.encode()
    s.sendall(b"\x05\x01\x00" + addr + struct.pack(">H", port))
    rep = recv_exact(s, 4)
    if rep[1] != 0:
        raise EOFError("socks reply %d" % rep[1])
    recv_exact(s, 6 if rep[3] == 1 else 18)
    return s


def push(via, kind, host, port, n, user=None, pw=None):
    s = open_via(via, kind, host, int(port), user, pw)
    h = hashlib.sha256()
    left = int(n)
    while left > 0:
        k = min(left, len(BLOCK))
        s.sendall(BLOCK[:k])
        h.update(BLOCK[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        reply += b
    print(reply.decode().strip())
    print(h.hexdigest(), n)


def pull(via, kind, host, port, rate, seconds):
    s = open_via(via, kind, host, int(port))
    rate, seconds = int(rate), float(seconds)
    got, t0 = 0, time.time()
    while time.time() - t0 < seconds:
        want = int(rate * (time.time() - t0)) - got
        if want > 0:
            b = s.recv(min(want, 4096))
            if not b:
                break
            got += len(b)
        else:
            time.sleep(0.05)
    print(got)
    s.close()


def probe(via, hexbytes):
    vh, vp = via.rsplit(":", 1)
    s = socket.create_connection((vh, int(vp)), timeout=5)
    s.sendall(bytes.fromhex(hexbytes))
    out = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            out += b
    except (ConnectionResetError, socket.timeout):
        pass
    print(out.hex())


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        if cmd == "serve":
            serve(int(args[0]), args[1], *(args[2:3]))
        elif cmd == "push":
            push(*args)
        elif cmd == "pull":
            pull(*args)
        elif cmd == "probe":
            probe(*args)
    except (EOFError, OSError) as e:
        print("error: %s" % e)
        sys.exit(1)
