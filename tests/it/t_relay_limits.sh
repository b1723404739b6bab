#!/usr/bin/env bash
# t_relay_limits.sh - hard limits: max_conns (accept pauses, then resumes),
# max_conns_per_ip, buffer_kb = 0, handshake and idle timeouts, and a slow
# consumer: a fast source, readers at 16 KB/s, kinglet's RSS stays at the
# cap; /proc/net/sockstat with sock_buf_kb set is reported.
. "$(dirname "$0")/lib.sh"
PEER="python3 tests/it/relay_peer.py"

echo_p=$(free_port); sink=$(free_port); src=$(free_port)
adm=$(free_port); pm=$(free_port); pi=$(free_port); pz=$(free_port); ps=$(free_port); ph=$(free_port); pn=$(free_port)
$PEER serve "$echo_p" echo & T_PIDS="$T_PIDS $!"
$PEER serve "$sink" sink & T_PIDS="$T_PIDS $!"
$PEER serve "$src" "source:1000000000" & T_PIDS="$T_PIDS $!"

cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 16M
[admin]
listen = 127.0.0.1:$adm
[relay max]
type = forward
listen = 127.0.0.1:$pm
target = 127.0.0.1:$echo_p
max_conns = 2
[relay perip]
type = forward
listen = 127.0.0.1:$pi
target = 127.0.0.1:$echo_p
max_conns = 8
max_conns_per_ip = 1
[relay zero]
type = forward
listen = 127.0.0.1:$pz
target = 127.0.0.1:$sink
buffer_kb = 0
max_conns = 4
[relay slow]
type = forward
listen = 127.0.0.1:$ps
target = 127.0.0.1:$src
buffer_kb = 16
max_conns = 8
sock_buf_kb = 32
[relay hs]
type = socks5
listen = 127.0.0.1:$ph
max_conns = 4
handshake = 1s
[relay idle]
type = forward
listen = 127.0.0.1:$pn
target = 127.0.0.1:$echo_p
max_conns = 4
idle = 1s
CONF
start_kinglet "$T_TMP/k.conf"
for p in $echo_p $sink $src $pm $pi $pz $ps $ph $pn; do wait_port "$p" || not_ok "port $p up"; done

# max_conns = 2: the third client is not accepted until a slot frees, then served.
out=$(python3 - "$pm" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s
def echo(s, msg, wait):
    s.settimeout(wait)
    s.sendall(msg)
    try:
        return s.recv(100)
    except socket.timeout:
        return b"(none)"
a, b = conn(), conn()
r1 = echo(a, b"a", 2); r2 = echo(b, b"b", 2)
c = conn()                       # completes in the kernel backlog only
r3 = echo(c, b"c", 1)            # kinglet has not accepted it: no echo
a.close()
r4 = c.recv(100) if True else b""   # after the slot frees, c is accepted and its byte echoed
print(r1.decode(), r2.decode(), r3.decode(), r4.decode())
PY
)
check "max_conns=2: two clients served" test "$(cut -d' ' -f1-2 <<<"$out")" = "a b"
check "max_conns=2: the third waits (not accepted yet)" test "$(cut -d' ' -f3 <<<"$out")" = "(none)"
check "max_conns=2: the third is served once a slot frees" test "$(cut -d' ' -f4 <<<"$out")" = "c"
check "max_conns reached is logged" grep -q "relay max: max_conns=2 reached, pausing accept" "$T_TMP/kinglet.log"

# max_conns_per_ip = 1: a second connection from 127.0.0.1 is closed at once.
out=$(python3 - "$pi" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port), timeout=5)
a.sendall(b"x"); first = a.recv(10)
b = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    b.sendall(b"y"); second = b.recv(10) or b"EOF"
except OSError:
    second = b"EOF"
a.close(); b.close()
time.sleep(0.5)                  # kinglet sees the close, the echo side closes, the slot frees
c = socket.create_connection(("127.0.0.1", port), timeout=5)
c.sendall(b"z"); third = c.recv(10)
print(first.decode(), second.decode(), third.decode())
PY
)
check "max_conns_per_ip=1: first served, second refused, slot reused after close" test "$out" = "x EOF z"
check "per-IP refusal is logged" grep -q "relay perip: refused 127.0.0.1:[0-9]*: per_ip" "$T_TMP/kinglet.log"

# buffer_kb = 0: one 2 KB chunk per direction still moves 20 MB byte-exact.
out=$($PEER push "127.0.0.1:$pz" forward 127.0.0.1 "$sink" 20000000)
check "buffer_kb=0: 20 MB byte-exact through 2 KB chunks" test "$(sed -n 1p <<<"$out")" = "$(sed -n 2p <<<"$out")"

# Timeouts (V2Ray policy names): handshake 1 s, idle 1 s.
t0=$(date +%s%N)
out=$($PEER probe "127.0.0.1:$ph" "" 2>&1)
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "handshake=1s: a silent client is closed after ~1 s ($ms ms)" test "$ms" -ge 800 -a "$ms" -lt 4000
check "handshake timeout logged" grep -q "relay hs: .*handshake timeout" "$T_TMP/kinglet.log"
out=$(python3 - "$pn" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"hi"); a = s.recv(10)
t0 = time.time(); b = s.recv(10); dt = time.time() - t0
print(a.decode(), "EOF" if b == b"" else b, "%.1f" % dt)
PY
)
check "idle=1s: an idle tunnel is closed after ~1 s ($out)" \
	awk -v o="$out" 'BEGIN { split(o, f, " "); exit !(f[1] == "hi" && f[2] == "EOF" && f[3] >= 0.8 && f[3] < 4) }'
check "idle timeout logged" grep -q "relay idle: .*idle timeout" "$T_TMP/kinglet.log"

# Slow consumers: a source that sends as fast as it can, 4 readers at
# 16 KB/s for 12 s. kinglet stops reading the source when the 16 KB block
# toward the reader is full, so its RSS stays at the cap.
rss0=$(rss_kb "$KL_PID")
for i in 1 2 3 4; do
	$PEER pull "127.0.0.1:$ps" forward 127.0.0.1 "$src" 16384 12 >"$T_TMP/pull$i" &
	pulls="$pulls $!"
done
peak=0
for s in $(seq 1 11); do
	sleep 1
	r=$(rss_kb "$KL_PID"); [ "$r" -gt "$peak" ] && peak=$r
	[ "$s" = 6 ] && sockstat=$(grep -E '^(TCP|sockets):' /proc/net/sockstat | tr '\n' ' ')
done
wait $pulls
got=$(cat "$T_TMP"/pull* | awk '{s+=$1} END {print s}')
diag "slow consumers: 4 readers got $got bytes in 12 s; kinglet RSS before $rss0 KB, peak $peak KB"
diag "sockstat during the slow test (sock_buf_kb=32): $sockstat"
check "slow consumers: readers received data at about their rate" test "$got" -gt 500000 -a "$got" -lt 1200000
# the cap: 4 connections x 2 x 16 KB = 128 KB of buffers, plus slack for pages the log touches
check "slow consumers: RSS growth within the buffer cap ($((peak - rss0)) KB <= 4 x 2 x 16 KB + 256 KB)" \
	test $((peak - rss0)) -le 384
limit_kb=$(( (16 + 12) * 1024 ))
check "RSS within memory_limit + fixed overhead ($peak KB <= $limit_kb KB)" test "$peak" -le "$limit_kb"
check "one thread under load" test "$(threads_of "$KL_PID")" -eq 1

# /metrics: per-listener counters.
curl -s --max-time 5 "http://127.0.0.1:$adm/metrics" >"$T_TMP/metrics"
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T_TMP/metrics"; }
check "metrics: max_conns pause counted as refused{reason=full}" \
	test "$(metric 'kinglet_relay_refused_total{listener="max",reason="full"}')" -ge 1
check "metrics: per-IP refusal counted" \
	test "$(metric 'kinglet_relay_refused_total{listener="perip",reason="per_ip"}')" -ge 1
check "metrics: bytes up counted (buffer_kb=0 listener, 20 MB)" \
	test "$(metric 'kinglet_relay_bytes_total{listener="zero",dir="up"}')" -ge 20000000
check "metrics: slow listener never held more than 2 blocks per connection" \
	test "$(awk '/^kinglet_pool_peak\{pool="relay.slow.buf"\}/ { print $2 }' "$T_TMP/metrics")" -le 10
check "metrics: active gauge back to 0 on an idle listener" \
	test "$(metric 'kinglet_relay_active{listener="zero"}')" = 0
# Graceful stop: SIGTERM closes the listeners, the transfer in flight finishes.
$PEER pull "127.0.0.1:$ps" forward 127.0.0.1 "$src" 65536 2 >"$T_TMP/grace" &
gp=$!
sleep 0.5
kill -TERM "$KL_PID"
sleep 0.3
check "stopping: new clients are not accepted" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/'"$ps"') 2>/dev/null'
wait "$gp"
check "stopping: the connection in flight kept flowing ($(cat "$T_TMP/grace") bytes in 2 s)" \
	test "$(cat "$T_TMP/grace")" -gt 100000
grep -E '^kinglet_(relay_(refused|stalls|backpressure)|pool_peak\{pool="relay)' "$T_TMP/metrics" | grep -v ' 0$' | sed 's/^/# /'
stop_kinglet
check "SIGTERM: clean exit" test "$KL_RC" -eq 0
[ "$T_FAIL" -gt 0 ] && tail -n 40 "$T_TMP/kinglet.log" | sed "s/^/# /"
t_done
