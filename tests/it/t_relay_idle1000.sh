#!/usr/bin/env bash
# t_relay_idle1000.sh - 1000 concurrent idle relayed connections in a plan
# that allows them: a forward listener with max_conns = 1000 to a loopback
# echo server; each connection makes a round trip (so it is relayed), all
# are held idle while kinglet's RSS is read (idle connections hold no
# buffers: the cost per connection is its state), connection 1001 is not
# accepted while the 1000 keep working, and it is served once one closes.
. "$(dirname "$0")/lib.sh"

N=${IDLE_CONNS:-1000}
pf=$(free_port); adm=$(free_port); echo_p=$(free_port)

cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 32M
[admin]
listen = 127.0.0.1:$adm
[relay idle]
type = forward
listen = 127.0.0.1:$pf
target = 127.0.0.1:$echo_p
max_conns = $N
buffer_kb = 4
CONF
"$KINGLET" --plan -c "$T_TMP/k.conf" >"$T_TMP/plan" 2>&1
check "the plan allows $N connections" grep -q "max_conns=$N" "$T_TMP/plan"
start_kinglet "$T_TMP/k.conf"
wait_port "$pf" || not_ok "port $pf up"
wait_port "$adm" || not_ok "port $adm up"

out=$(timeout 60 python3 - "$pf" "$echo_p" "$KL_PID" "$N" <<'PY'
import resource, selectors, socket, sys, threading, time

pf, echo_p, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
need = 2 * n + 64
if soft < need:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

def rss_kb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

# The echo server: one thread, one selector, non-blocking.
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", echo_p))
ls.listen(2048)
ls.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)
served = [0]
def echo_loop():
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                served[0] += 1
                continue
            try:
                d = s.recv(4096)
            except (BlockingIOError, ConnectionResetError):
                d = b"" if not isinstance(sys.exc_info()[1], BlockingIOError) else None
            if d is None:
                continue
            if not d:
                sel.unregister(s)
                s.close()
                continue
            s.sendall(d)
threading.Thread(target=echo_loop, daemon=True).start()

def roundtrip(s, tag, wait=5.0):
    s.settimeout(wait)
    s.sendall(tag)
    got = b""
    try:
        while len(got) < len(tag):
            d = s.recv(len(tag) - len(got))
            if not d:
                break
            got += d
    except (socket.timeout, OSError):
        pass
    return got == tag

time.sleep(0.3)
idle = rss_kb()
conns, ok = [], 0
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", pf), timeout=5)
    conns.append(s)
    ok += roundtrip(s, b"c%05d" % i)
opened = time.time() - t0
time.sleep(0.5)     # let the last buffers go back to the pool
held = rss_kb()
print("relayed", ok)
print("rss_idle_kb", idle)
print("rss_held_kb", held)
print("per_conn_bytes", (held - idle) * 1024 // n)
print("open_seconds %.1f" % opened)

# Connection n+1: kinglet stops accepting at max_conns; the kernel may
# queue it, but nothing is relayed.
extra = socket.socket()
extra.settimeout(2)
try:
    extra.connect(("127.0.0.1", pf))
    extra_ok = roundtrip(extra, b"extra", 1.0)
except OSError:
    extra_ok = False
print("extra_relayed_while_full", int(extra_ok))

# The n held connections still work.
again = sum(roundtrip(s, b"again%05d" % i) for i, s in enumerate(conns))
print("still_working", again)

# One closes: the waiting one is accepted and relayed.
conns.pop().close()
late = False
try:
    extra.settimeout(5)
    got = b""
    while len(got) < 5:
        d = extra.recv(5 - len(got))
        if not d:
            break
        got += d
    late = got == b"extra"
except OSError:
    late = False
print("extra_relayed_after_a_close", int(late))
extra.close()
for s in conns:
    s.close()
PY
)
echo "$out" | sed 's/^/# /'
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
check "$N connections relayed (a round trip each)" test "$(val relayed)" = "$N"
per=$(val per_conn_bytes)
diag "RSS idle $(val rss_idle_kb) KB, with $N idle connections $(val rss_held_kb) KB: $per bytes per idle connection"
check "RSS per idle connection under 3 KB ($per B)" test -n "$per" -a "${per:-99999}" -lt 3072
check "connection $((N + 1)) not relayed while $N are held" test "$(val extra_relayed_while_full)" = 0
check "the $N held connections keep working" test "$(val still_working)" = "$N"
check "connection $((N + 1)) served once one closed" test "$(val extra_relayed_after_a_close)" = 1
curl -s --max-time 5 "http://127.0.0.1:$adm/metrics" >"$T_TMP/metrics"
check "metrics: the pause at max_conns counted as refused{reason=full}" \
	test "$(awk '$1 == "kinglet_relay_refused_total{listener=\"idle\",reason=\"full\"}" { print $2 }' "$T_TMP/metrics")" -ge 1
for _ in $(seq 1 50); do
	a=$(curl -s --max-time 5 "http://127.0.0.1:$adm/metrics" | awk '$1 == "kinglet_relay_active{listener=\"idle\"}" { print $2 }')
	[ "$a" = 0 ] && break; sleep 0.1
done
check "all closed: active gauge back to 0" test "$a" = 0
check "one thread" test "$(threads_of "$KL_PID")" -eq 1
stop_kinglet
check "clean stop" test "$KL_RC" = 0
t_done
