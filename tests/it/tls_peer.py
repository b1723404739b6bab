#!/usr/bin/env python3
# tls_peer.py - TLS clients for relay tests (loopback only, every wait bounded).
#
#   socks  VIA CA DST_HOST DST_PORT [USER PASS]
#          SOCKS5 inside TLS to an echo server: prints "echo ok" or the failure
#   hold   VIA CA N SECONDS
#          opens N TLS connections to a TLS forward listener whose target
#          echoes, checks each echoes, holds them SECONDS while opening one
#          more (must be refused: closed without a handshake), then checks
#          the N still echo; prints "opened N", "extra refused", "still N"
#   garbage VIA MODE
#          MODE junk: random bytes; hello: a TLS ClientHello cut short, then
#          close; v2: an SSLv2-style hello; prints "closed" once kinglet closes
import os
import socket
import ssl
import struct
import sys
import time


def ctx_for(ca):
    c = ssl.create_default_context(cafile=ca)
    c.check_hostname = False
    return c


def tls_open(via, ca, timeout=20):
    h, p = via.rsplit(":", 1)
    s = socket.create_connection((h, int(p)), timeout=timeout)
    return ctx_for(ca).wrap_socket(s, server_hostname="localhost")


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        k = s.recv(n - len(b))
        if not k:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += k
    return b


def socks(via, ca, host, port, user=None, pw=None):
    s = tls_open(via, ca)
    s.sendall(b"\x05\x01" + (b"\x02" if user else b"\x00"))
    m = recv_exact(s, 2)[1]
    if m == 2:
        u, p = user.encode(), pw.encode()
        s.sendall(b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
        if recv_exact(s, 2)[1] != 0:
            print("auth refused")
            return
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) + struct.pack(">H", int(port)))
    rep = recv_exact(s, 10)
    if rep[1] != 0:
        print("socks reply %d" % rep[1])
        return
    s.sendall(b"ping through tls socks5\n")
    got = recv_exact(s, 24)
    print("echo ok" if got == b"ping through tls socks5\n" else "echo wrong %r" % got)


def echo_ok(s, tag):
    msg = ("hello %s\n" % tag).encode()
    s.sendall(msg)
    return recv_exact(s, len(msg)) == msg


def hold(via, ca, n, seconds):
    conns = []
    for i in range(int(n)):
        s = tls_open(via, ca)
        if not echo_ok(s, i):
            print("echo failed on %d" % i)
            return
        conns.append(s)
    print("opened %d" % len(conns))
    sys.stdout.flush()
    try:
        extra = tls_open(via, ca, timeout=5)
        try:
            extra.sendall(b"x")
            extra.recv(1)
        except (OSError, ssl.SSLError):
            pass
        print("extra refused" if extra.recv(1) == b"" else "extra accepted")
    except (OSError, ssl.SSLError, EOFError):
        print("extra refused")
    sys.stdout.flush()
    time.sleep(float(seconds))
    ok = sum(1 for i, s in enumerate(conns) if echo_ok(s, "again %d" % i))
    print("still %d" % ok)
    for s in conns:
        s.close()


def garbage(via, mode):
    h, p = via.rsplit(":", 1)
    s = socket.create_connection((h, int(p)), timeout=10)
    if mode == "junk":
        s.sendall(os.urandom(2048))
    elif mode == "v2":
        s.sendall(bytes.fromhex("802e0103010015000000100700c0030080010080060040040080020080") + os.urandom(16))
    else:
        # a real ClientHello from the ssl module, cut in half
        inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        o = ssl.create_default_context().wrap_bio(inb, outb, server_hostname="localhost")
        try:
            o.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outb.read()
        s.sendall(hello[: len(hello) // 2])
        s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(4096):
            pass
        print("closed")
    except ConnectionResetError:
        print("closed")
    except socket.timeout:
        print("still open")


if __name__ == "__main__":
    a = sys.argv[1:]
    try:
        if a[0] == "socks":
            socks(*a[1:])
        elif a[0] == "hold":
            hold(*a[1:])
        elif a[0] == "garbage":
            garbage(*a[1:])
    except (OSError, ssl.SSLError, EOFError) as e:
        print("error: %s" % e)
