#!/usr/bin/env bash
# t_tls_sessions.sh - 200 TLS sessions held at once on a TLS forward
# listener with tls_sessions = 200: all of them echo, one more is refused
# cleanly (closed, counted as refused{reason="tls"}) while the 200 keep
# working, and RSS stays within memory_limit + the documented 12 MB.
. "$(dirname "$0")/lib.sh"
TPEER="python3 tests/it/tls_peer.py"
N=200
LIMIT_MB=32
C=$T_TMP/certs
mkdir -p "$C"
check "test certificates made with openssl" make_certs "$C"
echo_p=$(free_port); fwd=$(free_port); adm=$(free_port)
python3 tests/it/relay_peer.py serve "$echo_p" echo & T_PIDS="$T_PIDS $!"
cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = ${LIMIT_MB}M
[admin]
listen = 127.0.0.1:$adm
[relay tfwd]
type = forward
listen = 127.0.0.1:$fwd
target = 127.0.0.1:$echo_p
tls_cert = $C/srv.pem
tls_key = $C/srv.key
tls_sessions = $N
max_conns = 256
buffer_kb = 4
CONF
start_kinglet "$T_TMP/k.conf"
wait_port "$echo_p"; wait_port "$fwd" || not_ok "listener up"
rss0=$(rss_kb "$KL_PID")
$TPEER hold "127.0.0.1:$fwd" "$C/ca.pem" "$N" 4 >"$T_TMP/hold.out" 2>&1 &
hp=$!
for _ in $(seq 1 300); do grep -q "extra" "$T_TMP/hold.out" && break; sleep 0.1; done
rss=$(rss_kb "$KL_PID")
m=$(curl -sS --max-time 5 "http://127.0.0.1:$adm/metrics")
wait "$hp"
check "$N TLS sessions opened and echoing" grep -qx "opened $N" "$T_TMP/hold.out"
check "session $((N + 1)) refused cleanly" grep -qx "extra refused" "$T_TMP/hold.out"
check "the $N sessions kept working after the refusal" grep -qx "still $N" "$T_TMP/hold.out"
n=$(grep 'kinglet_relay_refused_total{listener="tfwd",reason="tls"}' <<<"$m" | awk '{print $2}')
check "refusal counted as reason=tls ($n)" test "${n:-0}" -ge 1
grep -q 'relay tfwd: refused .*: tls' "$T_TMP/kinglet.log"; check "refusal logged" test $? = 0
diag "RSS: $rss0 KB idle, $rss KB with $N TLS sessions (limit ${LIMIT_MB} MB + 12 MB)"
if ldd "$KINGLET" 2>/dev/null | grep -q libasan; then
	ok "RSS bound not checked under ASan (shadow memory, system malloc)"
else
	check "RSS with $N TLS sessions within memory_limit + 12 MB" test "$rss" -le $(((LIMIT_MB + 12) * 1024))
fi
check "still one thread" test "$(threads_of "$KL_PID")" = 1
stop_pid "$KL_PID"; check "stops cleanly" test "$STOP_RC" = 0
[ "$T_FAIL" -eq 0 ] || tail -5 "$T_TMP/hold.out" | sed 's/^/# /'
t_done
