#!/usr/bin/env python3
"""relayload.py - load tool for the relay benchmark (tests/bench/relay.sh).

One origin server and four clients that reach it through a relay. Everything
is bounded in count and time; only loopback addresses are used.

  serve PORT
      The origin. Each connection sends one command line, then:
        SRC N    the server sends N bytes as fast as it can, then closes
        FLOOD    the server sends as fast as it can until the client leaves
        ECHO     every byte is sent back (kept open until the client closes)

  The clients take VIA, the way to reach the origin:
      direct | socks5:HOST:PORT | connect:HOST:PORT | forward:HOST:PORT
  (forward: the relay's fixed target is the origin; nothing is said to it)
  and --pids P1,P2 (the relay's processes, summed) to sample from /proc.

  bulk VIA OHOST OPORT BYTES
      One download of BYTES; prints "mbps=.. seconds=.. cpu_s=.." where cpu_s
      is the relay's utime+stime spent during the transfer and threads its
      thread count at the end of it.
  idle VIA OHOST OPORT N
      Opens N connections through the relay, each checked with one echo, and
      holds them; prints "base_kb=.. held_kb=.. opened=.." (relay RSS before
      any connection and with all N held open and idle; threads then).
  slow VIA OHOST OPORT N RATE SECONDS
      N connections on FLOOD, each read at RATE bytes/s for SECONDS; prints
      the relay's peak RSS and the system's TCP memory (/proc/net/sockstat)
      before and at its peak, and at the end the bytes queued in the relay's
      own sockets (ss -tmnp: skmem r + w), in KB.
  pingpong VIA OHOST OPORT COUNT SIZE
      COUNT round trips of SIZE bytes on one connection (after a warm-up);
      prints p50_us and p99_us.
"""
import os
import selectors
import socket
import struct
import sys
import time

CHUNK = 256 * 1024
BLOB = os.urandom(CHUNK)
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLK = os.sysconf("SC_CLK_TCK")


def die(msg):
    sys.stderr.write("relayload: %s\n" % msg)
    sys.exit(1)


# ---------------------------------------------------------------- /proc


def pids_of(arg):
    return [int(p) for p in arg.split(",") if p] if arg else []


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
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLK


def threads(pids):
    n = 0
    for p in pids:
        try:
            n += len(os.listdir("/proc/%d/task" % p))
        except OSError:
            pass
    return n


def sock_mem_kb(pids):
    """Kernel memory queued in the sockets these processes own: the sum of
    skmem r (receive queue) and w (send queue) from `ss -tmnp`; -1 without ss."""
    import re
    import subprocess
    try:
        text = subprocess.run(["ss", "-tmnpH"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return -1
    want = set(pids)
    total = 0
    owner = False
    for line in text.splitlines():
        # one socket per line: "... users:(("x",pid=N,fd=M)) ... skmem:(r..,w..)"
        if "users:" in line:
            owner = any(int(p) in want for p in re.findall(r"pid=(\d+)", line))
        m = re.search(r"skmem:\(r(\d+),.*?,w(\d+)", line)
        if m and owner:
            total += int(m.group(1)) + int(m.group(2))
    return total // 1024


def tcp_mem_kb():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                w = line.split()
                return int(w[w.index("mem") + 1]) * PAGE_KB
    return 0


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

    def close(c):
        sel.unregister(c.sock)
        c.sock.close()

    while True:
        for key, ev in sel.select():
            c = key.data
            if c is None:
                while True:
                    try:
                        s, _ = ls.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break  # out of descriptors: try again on the next turn
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
                        if c.mode == b"SRC":
                            c.left = int(w[1])
                            sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
                        elif c.mode == b"FLOOD":
                            c.left = -1
                            sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
                        elif c.mode != b"ECHO":
                            close(c)
                            continue
                    if c.mode == b"ECHO" and data:
                        c.outbuf += data
                        n = c.sock.send(c.outbuf)
                        c.outbuf = c.outbuf[n:]
                        sel.modify(c.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if c.outbuf else 0), c)
                    continue
                if ev & selectors.EVENT_WRITE:
                    if c.mode == b"ECHO":
                        n = c.sock.send(c.outbuf)
                        c.outbuf = c.outbuf[n:]
                        if not c.outbuf:
                            sel.modify(c.sock, selectors.EVENT_READ, c)
                        continue
                    # SRC / FLOOD: fill the socket
                    while c.left != 0:
                        want = CHUNK if c.left < 0 else min(CHUNK, c.left)
                        n = c.sock.send(view[:want])
                        if c.left > 0:
                            c.left -= n
                        if n < want:
                            break
                    if c.left == 0:
                        c.sock.shutdown(socket.SHUT_WR)
                        sel.modify(c.sock, selectors.EVENT_READ, c)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                close(c)


# ---------------------------------------------------------------- clients


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise ConnectionError("closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)


def dial(via, ohost, oport, timeout=10.0):
    """A socket connected to the origin through VIA, handshake done."""
    kind, _, rest = via.partition(":")
    if kind == "direct":
        s = socket.create_connection((ohost, oport), timeout=timeout)
    else:
        host, _, port = rest.rpartition(":")
        s = socket.create_connection((host, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if kind == "socks5":
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
    elif kind == "connect":
        s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (ohost, oport, ohost, oport)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            d = s.recv(1)
            if not d:
                raise ConnectionError("connect: closed")
            head += d
            if len(head) > 8192:
                raise ConnectionError("connect: head too long")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            raise ConnectionError("connect: status %s" % status.decode())
    elif kind not in ("forward", "direct"):
        die("unknown VIA %s" % via)
    return s


def cmd_bulk(via, ohost, oport, nbytes, pids):
    s = dial(via, ohost, oport, timeout=60)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    c0 = cpu_s(pids)
    t0 = time.perf_counter()
    s.sendall(b"SRC %d\n" % nbytes)
    got = 0
    while got < nbytes:
        n = s.recv_into(view)
        if n == 0:
            break
        got += n
    t1 = time.perf_counter()
    nthr = threads(pids)
    time.sleep(0.05)  # let the relay finish its accounting for the last bytes
    c1 = cpu_s(pids)
    s.close()
    if got != nbytes:
        die("bulk: got %d of %d bytes" % (got, nbytes))
    secs = t1 - t0
    print("mbps=%.1f seconds=%.3f cpu_s=%.3f threads=%d" % (nbytes / 1e6 / secs, secs, c1 - c0, nthr))


def cmd_idle(via, ohost, oport, n, pids, hold=2.0):
    time.sleep(0.5)
    base = rss_kb(pids)
    socks = []
    deadline = time.monotonic() + 120
    try:
        for i in range(n):
            if time.monotonic() > deadline:
                break
            s = dial(via, ohost, oport)
            s.sendall(b"ECHO\nping")
            recv_exact(s, 4)
            socks.append(s)
    except (OSError, ConnectionError) as e:
        sys.stderr.write("relayload: idle: connection %d: %s\n" % (len(socks) + 1, e))
    time.sleep(hold)  # idle: nothing flows
    held = rss_kb(pids)
    nthr = threads(pids)
    for s in socks:
        s.close()
    print("base_kb=%d held_kb=%d opened=%d threads=%d" % (base, held, len(socks), nthr))


def cmd_slow(via, ohost, oport, n, rate, seconds, pids):
    time.sleep(0.5)
    base_rss = rss_kb(pids)
    base_tcp = tcp_mem_kb()
    socks = []
    for _ in range(n):
        s = dial(via, ohost, oport)
        s.sendall(b"FLOOD\n")
        socks.append(s)
    for s in socks:
        s.setblocking(False)
    got = [0] * n
    peak_rss, peak_tcp = base_rss, base_tcp
    t0 = time.monotonic()
    tick = 0.1
    while True:
        now = time.monotonic() - t0
        if now >= seconds:
            break
        allowed = int(rate * now)
        for i, s in enumerate(socks):
            want = allowed - got[i]
            while want > 0:
                try:
                    d = s.recv(min(want, 65536))
                except (BlockingIOError, InterruptedError):
                    break
                if not d:
                    want = 0
                    break
                got[i] += len(d)
                want -= len(d)
        peak_rss = max(peak_rss, rss_kb(pids))
        peak_tcp = max(peak_tcp, tcp_mem_kb())
        time.sleep(tick)
    end_rss, end_tcp = rss_kb(pids), tcp_mem_kb()
    relay_sock = sock_mem_kb(pids)
    for s in socks:
        s.close()
    print("base_kb=%d peak_kb=%d end_kb=%d tcp_base_kb=%d tcp_peak_kb=%d tcp_end_kb=%d relay_sock_kb=%d read_kb=%d"
          % (base_rss, peak_rss, end_rss, base_tcp, peak_tcp, end_tcp, relay_sock, sum(got) // 1024))


def cmd_pingpong(via, ohost, oport, count, size):
    s = dial(via, ohost, oport)
    s.sendall(b"ECHO\n")
    msg = b"p" * size
    lat = []
    for i in range(count + 100):
        t0 = time.perf_counter_ns()
        s.sendall(msg)
        recv_exact(s, size)
        if i >= 100:  # the first 100 warm up
            lat.append(time.perf_counter_ns() - t0)
    s.close()
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000.0
    print("p50_us=%.0f p99_us=%.0f" % (pct(0.50), pct(0.99)))


def main(argv):
    pids = []
    if "--pids" in argv:
        i = argv.index("--pids")
        pids = pids_of(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) < 2:
        die(__doc__)
    cmd, a = argv[1], argv[2:]
    if cmd == "serve":
        serve(int(a[0]))
    elif cmd == "bulk":
        cmd_bulk(a[0], a[1], int(a[2]), int(a[3]), pids)
    elif cmd == "idle":
        cmd_idle(a[0], a[1], int(a[2]), int(a[3]), pids)
    elif cmd == "slow":
        cmd_slow(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), float(a[5]), pids)
    elif cmd == "pingpong":
        cmd_pingpong(a[0], a[1], int(a[2]), int(a[3]), int(a[4]))
    else:
        die("unknown command %s" % cmd)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except KeyboardInterrupt:
        pass
