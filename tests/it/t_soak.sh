#!/usr/bin/env bash
# t_soak.sh - no growth (SPEC 1): RSS after 20,000 mixed requests (relay,
# thumbnails, admin) is within 1% of RSS after the first 1,000, on one thread.
. "$(dirname "$0")/lib.sh"

if [ "${VARIANT:-rel}" = san ]; then
	diag "skipped under ASan: its allocator and shadow memory are not the plan's"
	ok "soak skipped under the sanitizer build"
	t_done; exit
fi
N=${SOAK_REQUESTS:-20000}
ap=$(free_port) sp=$(free_port) tp=$(free_port) ep=$(free_port)
python3 tests/it/relay_peer.py serve "$ep" echo >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 32M
log_level = warn
[admin]
listen = 127.0.0.1:$ap
[relay s]
type = socks5
listen = 127.0.0.1:$sp
max_conns = 64
allow_destinations = 127.0.0.0/8
[thumbs]
listen = 127.0.0.1:$tp
jobs = 2
arena = 8M
local_root = configs/demo
CONF
start_kinglet "$T_TMP/k.conf"
wait_port "$ap" && wait_port "$sp" && wait_port "$tp" && wait_port "$ep" || { not_ok "servers up"; t_done; exit; }
python3 tests/it/soak.py "$KL_PID" "$ap" "$sp" "$ep" "$tp" "$N" >"$T_TMP/soak.out" 2>&1
sed 's/^/# /' "$T_TMP/soak.out"
r1=$(awk '/^rss_after_1000/ {print $2}' "$T_TMP/soak.out")
rN=$(awk -v k="rss_after_$N" '$1 == k {print $2}' "$T_TMP/soak.out")
errs=$(awk '/^errors/ {print $2}' "$T_TMP/soak.out")
check "$N mixed requests served without an error" test "${errs:-1}" -eq 0
if [ -n "$r1" ] && [ -n "$rN" ] && awk -v a="$r1" -v b="$rN" 'BEGIN { exit !(b <= a * 1.01) }'; then
	ok "RSS after $N requests ($rN KB) within 1% of RSS after 1000 ($r1 KB)"
else
	not_ok "RSS growth: after 1000 ${r1:-?} KB, after $N ${rN:-?} KB"
fi
check "one thread after the soak" test "$(threads_of "$KL_PID")" -eq 1
stop_pid "$KL_PID"
check "clean exit" test "$STOP_RC" = 0
t_done
