#!/usr/bin/env bash
# t_foundation.sh - the process model: --version, --plan, --check-config
# errors, one thread, /health and /metrics, RSS within the plan, signals.
. "$(dirname "$0")/lib.sh"

check "--version prints the version" bash -c '"$KINGLET" --version | grep -q "^kinglet [0-9]"'
check "--help prints usage" bash -c '"$KINGLET" --help | grep -q "usage: kinglet"'
check "default config passes --check-config" "$KINGLET" -c configs/kinglet.conf --check-config
for f in configs/*.conf; do
	check "$f loads and its plan fits" bash -c '"$KINGLET" -c "$1" --plan >/dev/null' _ "$f"
done

# --plan: one line per pool, count x size, and a total.
"$KINGLET" -c configs/kinglet.conf --plan >"$T_TMP/plan" 2>&1
check "--plan lists the relay buffer pool" grep -qE '^  relay\.socks\.buf +[0-9]+ x ' "$T_TMP/plan"
check "--plan prints a total against memory_limit" grep -qE '^  total .* of 32 MB' "$T_TMP/plan"

# A plan that does not fit is refused with the sentence that says why.
cat >"$T_TMP/big.conf" <<CONF
[global]
memory_limit = 32M
[relay socks]
type = socks5
listen = 127.0.0.1:1
max_conns = 4000
buffer_kb = 16
CONF
out=$("$KINGLET" -c "$T_TMP/big.conf" --plan 2>&1); rc=$?
check "an over-budget plan exits non-zero" test "$rc" -ne 0
check "and names the pool, its arithmetic and the limit" \
	grep -qE 'relay\.socks\.buf: max_conns=4000 x 2 directions x 16 KB = 125(\.0)? MB exceeds memory_limit 32 MB' <<<"$out"
diag "$out"

# Config mistakes: file:line: key: reason, and a non-zero exit.
bad() { # name, expected regexp, config text
	printf '%s\n' "$3" >"$T_TMP/bad.conf"
	out=$("$KINGLET" -c "$T_TMP/bad.conf" --check-config 2>&1); rc=$?
	if [ "$rc" -ne 0 ] && grep -qE "$2" <<<"$out"; then ok "config error: $1"; else not_ok "config error: $1 (rc=$rc: $out)"; fi
}
bad "unknown key" 'bad\.conf:2: colour' $'[global]\ncolour = blue'
bad "bad size" 'bad\.conf:2: memory_limit' $'[global]\nmemory_limit = lots'
bad "unknown section" 'bad\.conf:1: .*\[?nope' $'[nope]\na = b'
bad "missing listen" 'bad\.conf:1: .*listen' $'[relay x]\ntype = socks5'
bad "duplicate listener" 'bad\.conf:[0-9]+: listen' $'[relay a]\ntype = socks5\nlisten = 127.0.0.1:1080\n[relay b]\ntype = http\nlisten = 127.0.0.1:1080'
bad "bad duration" 'bad\.conf:4: idle' $'[relay a]\ntype = socks5\nlisten = 127.0.0.1:1080\nidle = soon'
out=$("$KINGLET" -c "$T_TMP/missing.conf" --check-config 2>&1); rc=$?
check "a missing file is named" bash -c '[ "$1" -ne 0 ] && grep -q missing.conf <<<"$2"' _ "$rc" "$out"

# Run it: admin /health and /metrics, one thread, RSS within the plan.
ap=$(free_port)
cat >"$T_TMP/run.conf" <<CONF
[global]
memory_limit = 16M
shutdown_grace = 2s
[admin]
listen = 127.0.0.1:$ap
CONF
start_kinglet "$T_TMP/run.conf"
if wait_port "$ap"; then ok "kinglet starts and listens on the admin port"; else not_ok "kinglet starts"; cat "$T_TMP/kinglet.log"; fi
check "/health answers ok" bash -c 'curl -fsS "http://127.0.0.1:$1/health" | grep -qx ok' _ "$ap"
curl -fsS "http://127.0.0.1:$ap/metrics" >"$T_TMP/metrics"
check "/metrics has HELP and TYPE lines" grep -q '^# TYPE kinglet_pool_capacity gauge' "$T_TMP/metrics"
check "/metrics shows every pool's used and capacity" grep -q '^kinglet_pool_used{pool="admin.conn"} 1$' "$T_TMP/metrics"
check "/metrics counters end in _total" bash -c '! grep "^# TYPE .* counter" "$1" | grep -v "_total counter"' _ "$T_TMP/metrics"
check "/metrics reports RSS" grep -qE '^kinglet_rss_bytes [1-9][0-9]*$' "$T_TMP/metrics"
check "unknown admin path is 404" bash -c '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$1/nope")" = 404 ]' _ "$ap"
# 50 requests in a row: no pool leaks (admin.conn back to 0 used besides the scrape itself)
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$ap/health" >/dev/null; done
check "admin connections return to the pool" bash -c 'curl -fsS "http://127.0.0.1:$1/metrics" | grep -q "^kinglet_pool_used{pool=\"admin.conn\"} 1$"' _ "$ap"
check "exactly one thread" test "$(threads_of "$KL_PID")" -eq 1
rss=$(rss_kb "$KL_PID")
limit_kb=$(( (16 + 12) * 1024 ))
diag "RSS after start-up: $rss KB (memory_limit 16 MB + 12 MB fixed overhead)"
check "RSS within memory_limit + overhead" test "$rss" -le "$limit_kb"
kill -HUP "$KL_PID"; sleep 0.2
check "SIGHUP is handled (still running)" kill -0 "$KL_PID"
check "SIGHUP is logged" grep -q SIGHUP "$T_TMP/kinglet.log"
stop_pid "$KL_PID"
check "SIGTERM: clean exit 0" test "$STOP_RC" = 0
check "stop is logged" grep -q "stopped" "$T_TMP/kinglet.log"

# prlimit --as: the address space of the plan plus the fixed overhead is enough.
if [ "${VARIANT:-}" = san ]; then
	diag "prlimit --as skipped: AddressSanitizer reserves terabytes of shadow address space"
elif command -v prlimit >/dev/null; then
	as=$(( (16 + 12) * 1024 * 1024 ))
	prlimit --as=$as "$KINGLET" -c "$T_TMP/run.conf" 2>>"$T_TMP/kinglet.log" &
	pid=$!; T_PIDS="$T_PIDS $pid"
	if wait_port "$ap" && curl -fsS "http://127.0.0.1:$ap/health" >/dev/null; then ok "runs under prlimit --as"; else not_ok "runs under prlimit --as"; fi
	stop_pid "$pid"; check "and exits 0" test "$STOP_RC" = 0
fi
# `make run` (the README's first command) serves /health on the default admin port.
# (configs/kinglet.conf also serves thumbs on 8080: both default ports must be free)
if [ "${VARIANT:-rel}" = rel ] && ! (exec 3<>/dev/tcp/127.0.0.1/8081) 2>/dev/null &&
	! (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
	setsid make -s run >"$T_TMP/run.log" 2>&1 &
	mpid=$!
	for _ in $(seq 1 24); do wait_port 8081 && break; done   # make may have to build first
	if curl -fsS http://127.0.0.1:8081/health | grep -qx ok; then
		ok "make run serves /health on 127.0.0.1:8081"
	else
		not_ok "make run serves /health"; tail -5 "$T_TMP/run.log" | sed 's/^/# /'
	fi
	kill -TERM -- -"$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null
else
	diag "make run check skipped (sanitizer build, or port 8080/8081 busy)"
fi
t_done
