#!/usr/bin/env python3
"""tlsload.py - load tool for the TLS relay benchmark (tests/bench/tls.sh).

An origin server and three clients that reach it through a relay. Standard
library only; loopback addresses only; every loop bounded in count and time.

  serve PORT
      The origin. Each connection sends one command line, then:
        SRC N    the server sends N bytes as fast as it can, then closes
        ECHO     every byte is sent back (kept open until the client closes)
      A connection that closes without a command is simply dropped.

  The clients take VIA, the way to reach the origin:
      direct                plain TCP straight to the origin
      tls:HOST:PORT         TLS to a relay whose fixed target is the origin
                            (kinglet's TLS forward listener, stunnel4)
      socks5:HOST:PORT      plain SOCKS5 CONNECT (ss-local)
  and these options:
      --pids P1,P2   the relay's processes (summed) to sample from /proc
      --ca FILE      CA certificate that signed the relay's (tls: only)
      --tls12        the client offers TLS 1.2 at most
      --ciphers SPEC the client offers these TLS 1.2 cipher suites only
                     (OpenSSL names)

  bulk VIA OHOST OPORT BYTES
      One download of BYTES; prints "mbps=.. seconds=.. cpu_s=.. proto=..
      cipher=.." where cpu_s is the relay's utime+stime during the transfer.
  idle VIA OHOST OPORT N
      Opens N sessions (TLS handshake done, one echo checked each) and holds
      them idle; prints "base_kb=.. held_kb=.. opened=.." (relay RSS before
      any session and with all N held).
  handshakes VIA OHOST OPORT N CONC SECONDS
      N TLS handshakes, CONC in flight at a time, stopping after SECONDS at
      the latest; each connection is closed once its handshake is done.
      Prints "done=.. failed=.. seconds=.. per_s=.. cpu_s=.. per_cpu_s=.."
      (per_cpu_s: handshakes per second of relay CPU, i.e. on one core).
"""
import os
import selectors
import socket
import ssl
import struct
import sys
import time

CHUNK = 256 * 1024
BLOB = os.urandom(CHUNK)
CLK = os.sysconf("SC_CLK_TCK")


def die(msg):
    sys.stderr.write("tlsload: %s\n" % msg)
    sys.exit(1)


# ---------------------------------------------------------------- /proc


def rss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_s(pids):
    """utime + stime of each process (all its threads), summed."""
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / CLK


# ---------------------------------------------------------------- origin


class Conn:
    __slots__ = ("sock", "mode", "left", "inbuf", "outbuf")

    def __init__(self, sock):
        self.sock = sock
        self.mode = None
        self.left = 0
        self.inbuf = b""
        self.outbuf = b""


def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    view = memoryview(BLOB)
    RW = selectors.EVENT_READ | selectors.EVENT_WRITE

    def close(c):
        sel.unregister(c.sock)
        c.sock.close()

    while True:
        for key, ev in sel.select():
            c = key.data
            if c is None:
                for _ in range(256):
                    try:
                        s, _ = ls.accept()
                    except OSError:
                        break
                    s.setblocking(False)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(s, selectors.EVENT_READ, Conn(s))
                continue
            try:
                if ev & selectors.EVENT_READ:
                    data = c.sock.recv(CHUNK)
                    if not data:
                        close(c)
                        continue
                    if c.mode is None:
                        c.inbuf += data
                        if b"\n" not in c.inbuf:
                            if len(c.inbuf) > 256:
                                close(c)
                            continue
                        line, data = c.inbuf.split(b"\n", 1)
                        w = line.split()
                        c.mode = w[0] if w else b"?"
                        if c.mode == b"SRC" and len(w) == 2:
                            c.left = int(w[1])
                            sel.modify(c.sock, RW, c)
                        elif c.mode != b"ECHO":
                            close(c)
                            continue
                    if c.mode == b"ECHO" and data:
                        c.outbuf += data
                        n = c.sock.send(c.outbuf)
                        c.outbuf = c.outbuf[n:]
                        if c.outbuf:
                            sel.modify(c.sock, RW, c)
                    continue
                if ev & selectors.EVENT_WRITE:
                    if c.mode == b"ECHO":
                        n = c.sock.send(c.outbuf)
                        c.outbuf = c.outbuf[n:]
                        if not c.outbuf:
                            sel.modify(c.sock, selectors.EVENT_READ, c)
                        continue
                    while c.left > 0:
                        want = min(CHUNK, c.left)
                        n = c.sock.send(view[:want])
                        c.left -= n
                        if n < want:
                            break
                    if c.left == 0:
                        c.sock.shutdown(socket.SHUT_WR)
                        sel.modify(c.sock, selectors.EVENT_READ, c)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                pass
            except OSError:
                close(c)


# ---------------------------------------------------------------- clients


class Opts:
    pids = []
    ca = None
    tls12 = False
    ciphers = None


def client_ctx():
    c = ssl.create_default_context(cafile=Opts.ca)
    c.check_hostname = False  # the certificate names localhost; the chain is checked
    if Opts.tls12:
        c.maximum_version = ssl.TLSVersion.TLSv1_2
    if Opts.ciphers:
        c.set_ciphers(Opts.ciphers)
    return c


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise ConnectionError("closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)


def split_via(via):
    kind, _, rest = via.partition(":")
    if kind not in ("direct", "tls", "socks5"):
        die("unknown VIA %s" % via)
    if kind == "direct":
        return kind, None, None
    host, _, port = rest.rpartition(":")
    return kind, host, int(port)


def dial(via, ohost, oport, ctx=None, timeout=20.0):
    """A socket connected to the origin through VIA, handshakes done."""
    kind, host, port = split_via(via)
    if kind == "direct":
        s = socket.create_connection((ohost, oport), timeout=timeout)
    else:
        s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if kind == "tls":
        s = (ctx or client_ctx()).wrap_socket(s, server_hostname="localhost")
    elif kind == "socks5":
        s.sendall(b"\x05\x01\x00")
        if recv_exact(s, 2) != b"\x05\x00":
            raise ConnectionError("socks5: method refused")
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(ohost) + struct.pack("!H", oport))
        rep = recv_exact(s, 4)
        if rep[1] != 0:
            raise ConnectionError("socks5: reply %d" % rep[1])
        alen = {1: 4, 4: 16}.get(rep[3])
        if alen is None:
            alen = recv_exact(s, 1)[0]
        recv_exact(s, alen + 2)
    return s


def tls_info(s):
    if isinstance(s, ssl.SSLSocket):
        return "proto=%s cipher=%s" % (s.version(), s.cipher()[0])
    return "proto=- cipher=-"


def cmd_bulk(via, ohost, oport, nbytes):
    s = dial(via, ohost, oport, timeout=60)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    c0 = cpu_s(Opts.pids)
    t0 = time.perf_counter()
    s.sendall(b"SRC %d\n" % nbytes)
    got = 0
    while got < nbytes:
        n = s.recv_into(view)
        if n == 0:
            break
        got += n
    t1 = time.perf_counter()
    time.sleep(0.05)  # let the relay's last accounting land in /proc
    c1 = cpu_s(Opts.pids)
    info = tls_info(s)
    s.close()
    if got != nbytes:
        die("bulk: got %d of %d bytes" % (got, nbytes))
    secs = t1 - t0
    print("mbps=%.1f seconds=%.3f cpu_s=%.3f %s" % (nbytes / 1e6 / secs, secs, c1 - c0, info))


def cmd_idle(via, ohost, oport, n, hold=2.0):
    time.sleep(0.5)
    base = rss_kb(Opts.pids)
    ctx = client_ctx() if via.startswith("tls:") else None
    socks = []
    deadline = time.monotonic() + 120
    try:
        for i in range(n):
            if time.monotonic() > deadline:
                sys.stderr.write("tlsload: idle: out of time after %d\n" % len(socks))
                break
            s = dial(via, ohost, oport, ctx=ctx)
            s.sendall(b"ECHO\nping")
            if recv_exact(s, 4) != b"ping":
                raise ConnectionError("echo mismatch")
            socks.append(s)
    except (OSError, ConnectionError) as e:
        sys.stderr.write("tlsload: idle: session %d: %s\n" % (len(socks) + 1, e))
    time.sleep(hold)  # idle: nothing flows
    held = rss_kb(Opts.pids)
    info = tls_info(socks[0]) if socks else ""
    for s in socks:
        s.close()
    print("base_kb=%d held_kb=%d opened=%d %s" % (base, held, len(socks), info))


def cmd_handshakes(via, ohost, oport, total, conc, seconds):
    kind, host, port = split_via(via)
    if kind != "tls":
        die("handshakes: VIA must be tls:HOST:PORT")
    ctx = client_ctx()
    sel = selectors.DefaultSelector()
    started = done = failed = 0
    c0 = cpu_s(Opts.pids)
    t0 = time.perf_counter()
    deadline = time.monotonic() + seconds

    def start_one():
        nonlocal started, failed
        started += 1
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setblocking(False)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            raw.connect((host, port))
        except BlockingIOError:
            pass
        except OSError:
            raw.close()
            failed += 1
            return
        s = ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
        sel.register(s, selectors.EVENT_WRITE, time.monotonic())

    def step(s):
        nonlocal done, failed
        try:
            s.do_handshake()
        except ssl.SSLWantReadError:
            sel.modify(s, selectors.EVENT_READ, sel.get_key(s).data)
            return
        except ssl.SSLWantWriteError:
            sel.modify(s, selectors.EVENT_WRITE, sel.get_key(s).data)
            return
        except (OSError, ssl.SSLError):
            failed += 1
        else:
            done += 1
        sel.unregister(s)
        s.close()

    while started < min(conc, total):
        start_one()
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            step(key.fileobj)
        now = time.monotonic()
        for key in list(sel.get_map().values()):
            if now - key.data > 10:  # a handshake stuck for 10 s counts as failed
                sel.unregister(key.fileobj)
                key.fileobj.close()
                failed += 1
        while len(sel.get_map()) < conc and started < total and now < deadline:
            start_one()
    t1 = time.perf_counter()
    for key in list(sel.get_map().values()):
        sel.unregister(key.fileobj)
        key.fileobj.close()
    time.sleep(0.2)  # the relay's work on the last connections
    c1 = cpu_s(Opts.pids)
    secs = t1 - t0
    cpu = c1 - c0
    print("done=%d failed=%d seconds=%.3f per_s=%.1f cpu_s=%.3f per_cpu_s=%.1f"
          % (done, failed, secs, done / secs if secs > 0 else 0, cpu, done / cpu if cpu > 0 else 0))


def main(argv):
    argv = list(argv)
    while True:
        if "--pids" in argv:
            i = argv.index("--pids")
            Opts.pids = [int(p) for p in argv[i + 1].split(",") if p]
            del argv[i:i + 2]
        elif "--ca" in argv:
            i = argv.index("--ca")
            Opts.ca = argv[i + 1]
            del argv[i:i + 2]
        elif "--ciphers" in argv:
            i = argv.index("--ciphers")
            Opts.ciphers = argv[i + 1]
            del argv[i:i + 2]
        elif "--tls12" in argv:
            argv.remove("--tls12")
            Opts.tls12 = True
        else:
            break
    if len(argv) < 2:
        die(__doc__)
    cmd, a = argv[1], argv[2:]
    if cmd == "serve":
        serve(int(a[0]))
    elif cmd == "bulk":
        cmd_bulk(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "idle":
        cmd_idle(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "handshakes":
        cmd_handshakes(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), float(a[5]))
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)
