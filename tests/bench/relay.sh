#!/usr/bin/env bash
# relay.sh - the relay beside microsocks (SOCKS5), HAProxy (TCP forward),
# V2Ray (socks inbound -> freedom) and shadowsocks-libev (ss-local +
# ss-server, chacha20-ietf-poly1305), in the same run, on loopback:
#   (a) one bulk download's throughput and the relay's CPU seconds per GB;
#   (b) RSS with 1000 idle relayed connections (KB per connection);
#   (c) a slow consumer: 50 connections from a flooding origin read at
#       16 KB/s each for 10 s: the relay's RSS and the system's TCP memory;
#   (d) round trips of 64 bytes on one connection, p50 and p99.
# Writes $BENCH_OUT/relay.md. Not a test: nothing here asserts a figure.
# Knobs: RELAY_RUNS (3) runs for the medians of (a), RELAY_PP_RUNS (7) of (d), RELAY_BULK_MB
# (1024), RELAY_IDLE_CONNS (1000), RELAY_SLOW_CONNS (50), RELAY_SLOW_SECONDS (10).
set -u
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
: "${KINGLET:=./kinglet}"
RR=${RELAY_RUNS:-3}
BULK=$(( ${RELAY_BULK_MB:-1024} * 1048576 ))
IDLE_N=${RELAY_IDLE_CONNS:-1000}
SLOW_N=${RELAY_SLOW_CONNS:-50}
SLOW_RATE=16384
SLOW_S=${RELAY_SLOW_SECONDS:-10}
PP_N=2000
PP_RUNS=${RELAY_PP_RUNS:-7}
LOAD="python3 tests/bench/relayload.py"
bench_procs kl-bench-relay

# 1000 relayed connections need 2000+ descriptors in the relay and as many
# in the client and origin.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((IDLE_N * 3 + 100)) ] ||
	echo "# relay: ulimit -n $(ulimit -n) is low for $IDLE_N connections" >&2

ORIGIN=$(free_port)
bg "$tmp/origin.log" $LOAD serve "$ORIGIN"
wait_port "$ORIGIN" || { echo "relay: origin did not start" >&2; exit 1; }

# ---------------------------------------------------------------- relays
# start_NAME [sock_buf_kb]: sets R_PIDS (comma list, summed for RSS and
# CPU), R_VIA (how relayload.py reaches the origin), R_STOP (PIDs), or
# R_ERR with the reason it cannot run.

v2ray_major=$(v2ray version 2>/dev/null | awk 'NR==1 {split($2, v, "."); print v[1]}')
K_REASON="" K_BIN=$tmp/kinglet
# A copy, so that a rebuild of $KINGLET during the run does not change it.
if ! [ -x "$KINGLET" ] || ! cp "$KINGLET" "$K_BIN"; then
	K_REASON="no binary at $KINGLET"
fi

start_kinglet() { # socks5|forward [sock_buf_kb]
	local type=$1 sbk=${2:-0} p conf
	conf=$tmp/kinglet-$type-$sbk.conf
	p=$(free_port)
	{
		echo "[global]"
		echo "memory_limit = 64M"
		echo "log_level = warn"
		echo "[relay bench]"
		echo "type = $type"
		echo "listen = 127.0.0.1:$p"
		[ "$type" = forward ] && echo "target = 127.0.0.1:$ORIGIN"
		echo "buffer_kb = 16"
		echo "max_conns = $((IDLE_N + 100))"
		echo "sock_buf_kb = $sbk"
		echo "idle = 600s"
		echo "allow_destinations = 127.0.0.0/8"
	} >"$conf"
	if [ -n "$K_REASON" ]; then R_ERR=$K_REASON; return 1; fi
	if ! "$K_BIN" --plan -c "$conf" >"$tmp/plan.out" 2>&1; then
		R_ERR="--plan refused the config: $(grep -v '^ ' "$tmp/plan.out" | head -n 1)"
		return 1
	fi
	if ! grep -q 'relay\.bench' "$tmp/plan.out"; then
		R_ERR="this build has no relay: --plan shows no relay pool"
		return 1
	fi
	bg "$tmp/kinglet.log" "$K_BIN" -c "$conf"
	R_PIDS=$BG_PID R_STOP=$BG_PID
	[ "$type" = forward ] && R_VIA=forward:127.0.0.1:$p || R_VIA=socks5:127.0.0.1:$p
	wait_port "$p" || { R_ERR=$(why_not "$BG_PID" "$p" relay "$tmp/kinglet.log"); return 1; }
}
why_not() { # PID PORT WHAT LOG: why nothing listens
	if kill -0 "$1" 2>/dev/null; then
		echo "it runs but nothing listens on 127.0.0.1:$2: this build does not serve [$3] yet"
	else
		echo "exited: $(tail -n 1 "$4")"
	fi
}
start_microsocks() {
	local p; p=$(free_port)
	command -v microsocks >/dev/null || { R_ERR="microsocks not installed"; return 1; }
	bg /dev/null microsocks -i 127.0.0.1 -p "$p"
	R_PIDS=$BG_PID R_STOP=$BG_PID R_VIA=socks5:127.0.0.1:$p
	wait_port "$p" || { R_ERR="did not listen"; return 1; }
}
start_haproxy() {
	local p; p=$(free_port)
	command -v haproxy >/dev/null || { R_ERR="haproxy not installed"; return 1; }
	cat >"$tmp/haproxy.cfg" <<-CFG
	global
	    maxconn $((IDLE_N * 2 + 200))
	defaults
	    mode tcp
	    timeout connect 10s
	    timeout client 600s
	    timeout server 600s
	frontend bench
	    bind 127.0.0.1:$p
	    default_backend origin
	backend origin
	    server origin 127.0.0.1:$ORIGIN
	CFG
	bg "$tmp/haproxy.log" haproxy -db -f "$tmp/haproxy.cfg"
	R_PIDS=$BG_PID R_STOP=$BG_PID R_VIA=forward:127.0.0.1:$p
	wait_port "$p" || { R_ERR="did not listen: $(tail -n 1 "$tmp/haproxy.log")"; return 1; }
}
start_v2ray() {
	local p; p=$(free_port)
	command -v v2ray >/dev/null || { R_ERR="v2ray not installed"; return 1; }
	cat >"$tmp/v2ray.json" <<-JSON
	{
	  "log": { "loglevel": "none" },
	  "inbounds": [{ "listen": "127.0.0.1", "port": $p, "protocol": "socks",
	                 "settings": { "auth": "noauth", "udp": false } }],
	  "outbounds": [{ "protocol": "freedom" }]
	}
	JSON
	if [ "${v2ray_major:-4}" -ge 5 ] 2>/dev/null; then
		bg "$tmp/v2ray.log" v2ray run -c "$tmp/v2ray.json"
	else
		bg "$tmp/v2ray.log" v2ray -config "$tmp/v2ray.json"
	fi
	R_PIDS=$BG_PID R_STOP=$BG_PID R_VIA=socks5:127.0.0.1:$p
	wait_port "$p" || { R_ERR="did not listen: $(tail -n 1 "$tmp/v2ray.log")"; return 1; }
}
start_ss() {
	local ps pl sp
	command -v ss-server >/dev/null && command -v ss-local >/dev/null || { R_ERR="shadowsocks-libev not installed"; return 1; }
	ps=$(free_port); pl=$(free_port)
	bg "$tmp/ss.log" ss-server -s 127.0.0.1 -p "$ps" -k bench-secret -m chacha20-ietf-poly1305
	sp=$BG_PID
	bg "$tmp/ss.log" ss-local -s 127.0.0.1 -p "$ps" -b 127.0.0.1 -l "$pl" -k bench-secret -m chacha20-ietf-poly1305
	R_PIDS=$BG_PID,$sp R_STOP="$BG_PID $sp" R_VIA=socks5:127.0.0.1:$pl
	wait_port "$ps" && wait_port "$pl" || { R_ERR="did not listen: $(tail -n 1 "$tmp/ss.log")"; return 1; }
}
stop_relay() { local p; for p in $R_STOP; do stop_pid "$p"; done; R_STOP=""; }

# run_relay START_FN ARGS... -- MEASURE_FN: a fresh relay for each
# measurement, so that one measurement's peak is not the next one's baseline.
run_relay() {
	local start=()
	while [ "$1" != -- ]; do start+=("$1"); shift; done
	shift
	R_ERR="" R_STOP="" R_PIDS="" R_VIA=""
	if "${start[@]}"; then
		"$@" || R_ERR=${R_ERR:-measurement failed}
	fi
	stop_relay
	[ -z "$R_ERR" ]
}

val() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# (a) bulk: RR downloads of BULK bytes; medians of MB/s and CPU s per GB
m_bulk() {
	local i out f=$tmp/bulk
	: >"$f"
	for i in $(seq 1 "$RR"); do
		out=$(timeout 300 $LOAD bulk "$R_VIA" 127.0.0.1 "$ORIGIN" "$BULK" --pids "$R_PIDS" 2>"$tmp/err") ||
			{ R_ERR="bulk: $(tail -n 1 "$tmp/err")"; return 1; }
		echo "$(val mbps "$out") $(val cpu_s "$out") $(val threads "$out")" >>"$f"
	done
	B_MBPS=$(awk '{print $1}' "$f" | median)
	B_CPU=$(awk -v g="$BULK" '{print $2 / (g / 1e9)}' "$f" | median)
	B_THR=$(awk '{print $3}' "$f" | sort -n | tail -n 1)
}
# (b) idle: RSS before and with IDLE_N connections held
m_idle() {
	local out
	out=$(timeout 300 $LOAD idle "$R_VIA" 127.0.0.1 "$ORIGIN" "$IDLE_N" --pids "$R_PIDS" 2>"$tmp/err") ||
		{ R_ERR="idle: $(tail -n 1 "$tmp/err")"; return 1; }
	I_BASE=$(val base_kb "$out") I_HELD=$(val held_kb "$out") I_OPEN=$(val opened "$out") I_THR=$(val threads "$out")
	I_PER=$(awk -v a="$I_BASE" -v b="$I_HELD" -v n="$I_OPEN" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / n : 0) }')
	[ "$I_OPEN" = "$IDLE_N" ] || I_NOTE="only $I_OPEN of $IDLE_N opened: $(tail -n 1 "$tmp/err")"
}
# (c) slow consumer
m_slow() {
	local out
	out=$(timeout $((SLOW_S + 120)) $LOAD slow "$R_VIA" 127.0.0.1 "$ORIGIN" "$SLOW_N" "$SLOW_RATE" "$SLOW_S" --pids "$R_PIDS" 2>"$tmp/err") ||
		{ R_ERR="slow: $(tail -n 1 "$tmp/err")"; return 1; }
	S_BASE=$(val base_kb "$out") S_PEAK=$(val peak_kb "$out")
	S_TCP=$(( $(val tcp_peak_kb "$out") - $(val tcp_base_kb "$out") ))
	S_READ=$(val read_kb "$out") S_SOCK=$(val relay_sock_kb "$out")
}
# (d) ping-pong: medians over PP_RUNS runs of p50 and p99
m_pp() {
	local i out f=$tmp/pp
	: >"$f"
	for i in $(seq 1 "$PP_RUNS"); do
		out=$(timeout 120 $LOAD pingpong "$R_VIA" 127.0.0.1 "$ORIGIN" "$PP_N" 64 2>"$tmp/err") ||
			{ R_ERR="pingpong: $(tail -n 1 "$tmp/err")"; return 1; }
		echo "$(val p50_us "$out") $(val p99_us "$out")" >>"$f"
	done
	P50=$(awk '{print $1}' "$f" | median)
	P99=$(awk '{print $2}' "$f" | median)
}
direct() { R_VIA=direct R_PIDS=""; }

# name | start command | which kinglet row it is compared with
RELAYS=(
	"kinglet socks5|start_kinglet socks5 0|ks"
	"kinglet forward|start_kinglet forward 0|kf"
	"microsocks (SOCKS5)|start_microsocks|ks"
	"HAProxy (TCP forward)|start_haproxy|kf"
	"V2Ray (socks → freedom)|start_v2ray|ks"
	"shadowsocks-libev (ss-local + ss-server)|start_ss|ks"
)

out=$BENCH_OUT/relay.md
sec() { echo "== relay: $*" >&2; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { if (x == "") print "-"; else printf "%.*f\n", d, x }'; }
unavail() { # name reason: a row that says why this relay was not measured
	local n=$1; shift
	case "$n" in kinglet*) echo "| $n | kinglet: not available ($*) |" ;; *) echo "| $n | failed ($*) |" ;; esac
}

{
echo "### Relay: one bulk download through the relay ($((BULK / 1048576)) MiB, median of $RR runs)"
echo
echo "Ratios are the other relay's figure over kinglet's (socks5 listener for SOCKS relays, forward listener for HAProxy)."
echo
echo "| relay | MB/s | relay CPU s per GB | threads | MB/s vs kinglet | CPU/GB vs kinglet |"
echo "|---|---:|---:|---:|---:|---:|"
} >"$out"
sec bulk
declare -A K_MBPS K_CPU K_IPER K_SPEAK K_STCP K_SSOCK K_P50 K_P99
if R_ERR="" && direct && m_bulk; then
	echo "| (no relay: client straight to the origin) | $(fmt "$B_MBPS") | - | - | | |" >>"$out"
fi
for r in "${RELAYS[@]}"; do
	IFS='|' read -r name start kind <<<"$r"
	# shellcheck disable=SC2086
	if run_relay $start -- m_bulk; then
		case "$name" in kinglet*) K_MBPS[$kind]=$B_MBPS K_CPU[$kind]=$B_CPU ;; esac
		echo "| $name | $(fmt "$B_MBPS") | $(fmt "$B_CPU" 2) | $B_THR | $(ratio "$B_MBPS" "${K_MBPS[$kind]:-0}") | $(ratio "$B_CPU" "${K_CPU[$kind]:-0}") |" >>"$out"
	else
		unavail "$name" "$R_ERR" >>"$out"
	fi
done

{
echo
echo "### Relay: RSS with $IDLE_N idle relayed connections (each checked with one echo, then held open)"
echo
echo "| relay | RSS before MB | RSS with $IDLE_N held MB | KB per connection | threads | KB/conn vs kinglet |"
echo "|---|---:|---:|---:|---:|---:|"
} >>"$out"
sec idle
for r in "${RELAYS[@]}"; do
	IFS='|' read -r name start kind <<<"$r"
	I_NOTE=""
	# shellcheck disable=SC2086
	if run_relay $start -- m_idle; then
		case "$name" in kinglet*) K_IPER[$kind]=$I_PER ;; esac
		echo "| $name | $(mib "$I_BASE") | $(mib "$I_HELD") | $I_PER | $I_THR | $(ratio "$I_PER" "${K_IPER[$kind]:-0}") |" >>"$out"
		[ -z "$I_NOTE" ] || echo "| | ($I_NOTE) | | | | |" >>"$out"
	else
		unavail "$name" "$R_ERR" >>"$out"
	fi
done

{
echo
echo "### Relay: slow consumer ($SLOW_N connections, origin sends as fast as it can, each read at $((SLOW_RATE / 1024)) KB/s for $SLOW_S s)"
echo
echo "Relay RSS is the peak sampled every 0.1 s. System TCP memory is /proc/net/sockstat \`TCP: mem\` (every socket: client, relay and origin, which autotune whatever the relay does), peak over the baseline before the test. Relay socket queues: bytes in the receive and send queues of the relay's own sockets at the end (\`ss -tmnp\`, skmem r + w). kinglet runs buffer_kb = 16."
echo
echo "| relay | relay RSS before MB | relay peak RSS MB | system TCP memory MB | relay socket queues MB | read KB | RSS vs kinglet | TCP mem vs kinglet | socket queues vs kinglet |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >>"$out"
sec slow
SLOW_RELAYS=(
	"kinglet socks5, sock_buf_kb = 0|start_kinglet socks5 0|ks"
	"kinglet socks5, sock_buf_kb = 64|start_kinglet socks5 64|ks64"
	"kinglet forward, sock_buf_kb = 0|start_kinglet forward 0|kf"
	"kinglet forward, sock_buf_kb = 64|start_kinglet forward 64|kf64"
	"${RELAYS[2]}" "${RELAYS[3]}" "${RELAYS[4]}" "${RELAYS[5]}"
)
for r in "${SLOW_RELAYS[@]}"; do
	IFS='|' read -r name start kind <<<"$r"
	# shellcheck disable=SC2086
	if run_relay $start -- m_slow; then
		case "$name" in kinglet*) K_SPEAK[$kind]=$S_PEAK K_STCP[$kind]=$S_TCP K_SSOCK[$kind]=$S_SOCK ;; esac
		sq="-"; [ "${S_SOCK:--1}" -ge 0 ] && sq=$(mib "$S_SOCK")
		echo "| $name | $(mib "$S_BASE") | $(mib "$S_PEAK") | $(mib "$S_TCP") | $sq | $S_READ | $(ratio "$S_PEAK" "${K_SPEAK[$kind]:-0}") | $(ratio "$S_TCP" "${K_STCP[$kind]:-0}") | $(ratio "$S_SOCK" "${K_SSOCK[$kind]:-0}") |" >>"$out"
	else
		unavail "$name" "$R_ERR" >>"$out"
	fi
done

{
echo
echo "### Relay: round trip, $PP_N ping-pongs of 64 bytes on one connection (after 100 warm-up; median of $PP_RUNS runs)"
echo
echo "| relay | p50 µs | p99 µs | p50 vs kinglet | p99 vs kinglet |"
echo "|---|---:|---:|---:|---:|"
} >>"$out"
sec pingpong
if R_ERR="" && direct && m_pp; then
	echo "| (no relay: client straight to the origin) | $(fmt "$P50") | $(fmt "$P99") | | |" >>"$out"
fi
for r in "${RELAYS[@]}"; do
	IFS='|' read -r name start kind <<<"$r"
	# shellcheck disable=SC2086
	if run_relay $start -- m_pp; then
		case "$name" in kinglet*) K_P50[$kind]=$P50 K_P99[$kind]=$P99 ;; esac
		echo "| $name | $(fmt "$P50") | $(fmt "$P99") | $(ratio "$P50" "${K_P50[$kind]:-0}") | $(ratio "$P99" "${K_P99[$kind]:-0}") |" >>"$out"
	else
		unavail "$name" "$R_ERR" >>"$out"
	fi
done

kv="not available"
[ -z "$K_REASON" ] && kv=$("$K_BIN" --version 2>/dev/null | cut -d' ' -f2)
{
echo
echo "kinglet $kv ($KINGLET), microsocks, HAProxy $(haproxy -v 2>/dev/null | awk 'NR==1 {print $3}'), V2Ray $(v2ray version 2>/dev/null | awk 'NR==1 {print $2}'), shadowsocks-libev $(ss-server -h 2>/dev/null | awk '/shadowsocks-libev/ {print $2; exit}'); all at their defaults except what is shown. Client and origin are tests/bench/relayload.py (Python), which bounds the figures: compare rows, not absolute numbers. $(nproc) cores, $(date -u +%Y-%m-%d)."
} >>"$out"
cat "$out"
