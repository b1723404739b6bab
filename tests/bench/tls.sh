#!/usr/bin/env bash
# tls.sh - kinglet's TLS forward listener (TLS in, plain TCP to a fixed
# target) beside stunnel4 in server mode doing the same, and beside
# shadowsocks-libev (ss-local + ss-server, chacha20-ietf-poly1305), the
# encrypted tunnel users pick instead; in the same run, on loopback:
#   (a) one bulk download through the relay: MB/s and the relay's CPU
#       seconds per GB (utime + stime from /proc/PID/stat);
#   (b) RSS per session: N sessions opened (TLS handshake done, one echo
#       each) and held idle: (RSS held - RSS before) / N;
#   (c) full TLS handshakes (ECDSA P-256 certificate, no resumption), a
#       bounded number with a few in flight: per second of wall time and
#       per second of the relay's CPU time (= on one core).
# Writes $BENCH_OUT/tls.md. Not a test: nothing here asserts a figure.
# Knobs: TLS_RUNS (3) runs per median, TLS_BULK_MB (512), TLS_SESSIONS
# (200), TLS_HS (2000) handshakes per run, TLS_HS_CONC (4) in flight.
set -u
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
: "${KINGLET:=./kinglet}"
TR=${TLS_RUNS:-3}
BULK=$(( ${TLS_BULK_MB:-512} * 1048576 ))
SESS_N=${TLS_SESSIONS:-200}
HS_N=${TLS_HS:-2000}
HS_C=${TLS_HS_CONC:-4}
HS_S=60   # a handshake run stops after this many seconds at the latest
LOAD="python3 tests/bench/tlsload.py"
bench_procs kl-bench-tls
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# A throw-away CA and a server certificate for localhost / 127.0.0.1,
# ECDSA P-256, shared by kinglet and stunnel4.
C=$tmp/certs
mkdir -p "$C"
if ! (
	cd "$C" && exec >/dev/null 2>&1 && set -e
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key
	openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=kl-bench-ca
	openssl ecparam -name prime256v1 -genkey -noout -out srv.key
	openssl req -new -key srv.key -out srv.csr -subj /CN=localhost
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext
); then
	echo "tls: openssl could not make the test certificates" >&2
	exit 1
fi

ORIGIN=$(free_port)
# shellcheck disable=SC2086
bg "$tmp/origin.log" $LOAD serve "$ORIGIN"
wait_port "$ORIGIN" || { echo "tls: origin did not start" >&2; exit 1; }

# ---------------------------------------------------------------- relays
# start_NAME: sets R_PIDS (comma list, summed for RSS and CPU), R_VIA (how
# tlsload.py reaches the origin), R_STOP (PIDs), R_OPT (client options), or
# R_ERR with the reason it cannot run.

K_REASON="" K_BIN=$tmp/kinglet
# A copy, so that a rebuild of $KINGLET during the run does not change it.
if ! [ -x "$KINGLET" ] || ! cp "$KINGLET" "$K_BIN"; then
	K_REASON="no binary at $KINGLET"
fi

start_kinglet() {
	local p conf=$tmp/kinglet.conf
	p=$(free_port)
	cat >"$conf" <<-CONF
	[global]
	memory_limit = 64M
	log_level = warn
	[relay bench]
	type = forward
	listen = 127.0.0.1:$p
	target = 127.0.0.1:$ORIGIN
	tls_cert = $C/srv.pem
	tls_key = $C/srv.key
	tls_sessions = $((SESS_N + 56))
	max_conns = $((SESS_N + 100))
	buffer_kb = 16
	idle = 600s
	allow_destinations = 127.0.0.0/8
	CONF
	if [ -n "$K_REASON" ]; then R_ERR=$K_REASON; return 1; fi
	if ! "$K_BIN" --plan -c "$conf" >"$tmp/plan.out" 2>&1; then
		R_ERR="--plan refused the config: $(grep -v '^ ' "$tmp/plan.out" | head -n 1)"
		return 1
	fi
	bg "$tmp/kinglet.log" "$K_BIN" -c "$conf"
	R_PIDS=$BG_PID R_STOP=$BG_PID R_VIA=tls:127.0.0.1:$p
	wait_port "$p" || { R_ERR="did not listen: $(tail -n 1 "$tmp/kinglet.log")"; return 1; }
}
start_kinglet_gcm() { start_kinglet && R_OPT="--ciphers ECDHE-ECDSA-AES128-GCM-SHA256"; }
start_stunnel() {
	local p
	command -v stunnel4 >/dev/null || { R_ERR="stunnel4 not installed"; return 1; }
	p=$(free_port)
	# Server mode, at its defaults; warnings only in the log, as kinglet.
	cat >"$tmp/stunnel.conf" <<-CONF
	foreground = yes
	pid =
	debug = warning
	[bench]
	accept = 127.0.0.1:$p
	connect = 127.0.0.1:$ORIGIN
	cert = $C/srv.pem
	key = $C/srv.key
	CONF
	bg "$tmp/stunnel.log" stunnel4 "$tmp/stunnel.conf"
	R_PIDS=$BG_PID R_STOP=$BG_PID R_VIA=tls:127.0.0.1:$p
	wait_port "$p" || { R_ERR="did not listen: $(tail -n 1 "$tmp/stunnel.log")"; return 1; }
}
start_stunnel12() { start_stunnel && R_OPT="--tls12"; }
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

# run_relay START_FN -- MEASURE_FN: a fresh relay for each measurement, so
# that one measurement's peak is not the next one's baseline.
run_relay() {
	local start=$1
	shift 2
	R_ERR="" R_STOP="" R_PIDS="" R_VIA="" R_OPT=""
	if "$start"; then
		"$@" || R_ERR=${R_ERR:-measurement failed}
	fi
	stop_relay
	[ -z "$R_ERR" ]
}

val() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
load() { # SUBCOMMAND ARGS...: tlsload.py with this relay's options; bounded
	# shellcheck disable=SC2086
	timeout 300 $LOAD "$@" --ca "$C/ca.pem" --pids "$R_PIDS" $R_OPT 2>"$tmp/err"
}

# (a) bulk: TR downloads of BULK bytes; medians of MB/s and CPU s per GB
m_bulk() {
	local out f=$tmp/bulk
	: >"$f"
	for _ in $(seq 1 "$TR"); do
		out=$(load bulk "$R_VIA" 127.0.0.1 "$ORIGIN" "$BULK") ||
			{ R_ERR="bulk: $(tail -n 1 "$tmp/err")"; return 1; }
		echo "$(val mbps "$out") $(val cpu_s "$out")" >>"$f"
		B_PROTO="$(val proto "$out") $(val cipher "$out")"
	done
	B_MBPS=$(awk '{print $1}' "$f" | median)
	B_CPU=$(awk -v g="$BULK" '{print $2 / (g / 1e9)}' "$f" | median)
}
# (b) sessions: one run per fresh relay (run_relay calls it TR times)
m_idle() {
	local out
	out=$(load idle "$R_VIA" 127.0.0.1 "$ORIGIN" "$SESS_N") ||
		{ R_ERR="idle: $(tail -n 1 "$tmp/err")"; return 1; }
	echo "$(val base_kb "$out") $(val held_kb "$out") $(val opened "$out")" >>"$tmp/idle"
	[ "$(val opened "$out")" = "$SESS_N" ] || I_NOTE="only $(val opened "$out") of $SESS_N opened: $(tail -n 1 "$tmp/err")"
}
# (c) handshakes: TR runs of HS_N; medians
m_hs() {
	local out f=$tmp/hs
	: >"$f"
	for _ in $(seq 1 "$TR"); do
		out=$(load handshakes "$R_VIA" 127.0.0.1 "$ORIGIN" "$HS_N" "$HS_C" "$HS_S") ||
			{ R_ERR="handshakes: $(tail -n 1 "$tmp/err")"; return 1; }
		echo "$(val per_s "$out") $(val per_cpu_s "$out") $(val "done" "$out") $(val failed "$out")" >>"$f"
	done
	H_WALL=$(awk '{print $1}' "$f" | median)
	H_CPU=$(awk '{print $2}' "$f" | median)
	H_DONE=$(awk '{s += $3} END {print s}' "$f")
	H_FAIL=$(awk '{s += $4} END {print s}' "$f")
}

# name | start function
RELAYS=(
	"kinglet TLS forward|start_kinglet"
	"kinglet TLS forward, client offers AES-128-GCM only|start_kinglet_gcm"
	"stunnel4|start_stunnel"
	"stunnel4, client offers TLS 1.2 at most|start_stunnel12"
	"shadowsocks-libev (ss-local + ss-server)|start_ss"
)

out=$BENCH_OUT/tls.md
sec() { echo "== tls: $*" >&2; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { if (x == "") print "-"; else printf "%.*f\n", d, x }'; }
unavail() { # name reason: a row that says why this relay was not measured
	local n=$1; shift
	case "$n" in kinglet*) echo "| $n | kinglet: not available ($*) |" ;; *) echo "| $n | failed ($*) |" ;; esac
}

{
echo "### TLS relay: one bulk download through the relay ($((BULK / 1048576)) MiB, median of $TR runs)"
echo
echo "The client speaks TLS to kinglet / stunnel4, which forward plain TCP to the origin; for shadowsocks-libev the client speaks plain SOCKS5 to ss-local, which encrypts to ss-server, which forwards plain to the origin (so both of its processes do cipher work, summed). Ratios are each row's figure over the first kinglet row's (kinglet at its defaults)."
echo
echo "| relay | protocol, cipher | MB/s | relay CPU s per GB | MB/s vs kinglet | CPU/GB vs kinglet |"
echo "|---|---|---:|---:|---:|---:|"
} >"$out"
sec bulk
K_MBPS=0 K_CPU=0 K_IPER=0 K_HC=0
R_ERR="" R_VIA=direct R_PIDS="" R_OPT=""
if m_bulk; then
	echo "| (no relay: plain TCP straight to the origin) | - | $(fmt "$B_MBPS") | - | | |" >>"$out"
fi
for r in "${RELAYS[@]}"; do
	IFS='|' read -r name start <<<"$r"
	B_PROTO="-"
	if run_relay "$start" -- m_bulk; then
		[ "$start" = start_kinglet ] && K_MBPS=$B_MBPS K_CPU=$B_CPU
		[ "$B_PROTO" = "- -" ] && B_PROTO="chacha20-ietf-poly1305 (AEAD stream)"
		echo "| $name | $B_PROTO | $(fmt "$B_MBPS") | $(fmt "$B_CPU" 2) | $(ratio "$B_MBPS" "$K_MBPS") | $(ratio "$B_CPU" "$K_CPU") |" >>"$out"
	else
		unavail "$name" "$R_ERR" >>"$out"
	fi
done

{
echo
echo "### TLS relay: RSS with $SESS_N sessions held idle (handshake done, one echo each; median of $TR fresh relays)"
echo
echo "For shadowsocks-libev: $SESS_N SOCKS5 connections through ss-local and ss-server, both processes' RSS summed. kinglet runs memory_limit = 64M, buffer_kb = 16, tls_sessions = $((SESS_N + 56))."
echo
echo "| relay | RSS before MB | RSS with $SESS_N held MB | KB per session | KB/session vs kinglet |"
echo "|---|---:|---:|---:|---:|"
} >>"$out"
sec sessions
for r in "${RELAYS[@]}"; do
	IFS='|' read -r name start <<<"$r"
	[ "$start" = start_kinglet_gcm ] && continue  # the cipher does not change what a session holds
	I_NOTE="" ok=1
	: >"$tmp/idle"
	for _ in $(seq 1 "$TR"); do
		run_relay "$start" -- m_idle || { ok=0; break; }
	done
	if [ "$ok" = 1 ]; then
		I_BASE=$(awk '{print $1}' "$tmp/idle" | median)
		I_HELD=$(awk '{print $2}' "$tmp/idle" | median)
		I_PER=$(awk '{ if ($3 > 0) print ($2 - $1) / $3 }' "$tmp/idle" | median)
		I_PER=$(fmt "$I_PER" 1)
		[ "$start" = start_kinglet ] && K_IPER=$I_PER
		echo "| $name | $(mib "$I_BASE") | $(mib "$I_HELD") | $I_PER | $(ratio "$I_PER" "$K_IPER") |" >>"$out"
		[ -z "$I_NOTE" ] || echo "| | ($I_NOTE) | | | |" >>"$out"
	else
		unavail "$name" "$R_ERR" >>"$out"
	fi
done

{
echo
echo "### TLS relay: full handshakes, ECDSA P-256 certificate ($HS_N per run, $HS_C in flight, no session resumption; median of $TR runs)"
echo
echo "Per CPU second: handshakes divided by the relay's CPU time (utime + stime) over the run, i.e. the rate one core would sustain; per wall second is bounded by the Python client on the same machine. Each connection is closed once its handshake is done (the relay still connects to the origin). shadowsocks-libev has no handshake to compare."
echo
echo "| relay | handshakes per wall s | handshakes per relay CPU s | failed | per CPU s vs kinglet |"
echo "|---|---:|---:|---:|---:|"
} >>"$out"
sec handshakes
for r in "${RELAYS[@]}"; do
	IFS='|' read -r name start <<<"$r"
	case "$start" in start_ss|start_kinglet_gcm) continue ;; esac  # no TLS handshake; the bulk cipher does not matter here
	if run_relay "$start" -- m_hs; then
		[ "$start" = start_kinglet ] && K_HC=$H_CPU
		echo "| $name | $(fmt "$H_WALL") | $(fmt "$H_CPU") | $H_FAIL of $((H_DONE + H_FAIL)) | $(ratio "$H_CPU" "$K_HC") |" >>"$out"
	else
		unavail "$name" "$R_ERR" >>"$out"
	fi
done

kv="not available"
[ -z "$K_REASON" ] && kv=$("$K_BIN" --version 2>/dev/null | cut -d' ' -f2)
mv=$(dpkg-query -W -f='${Version}\n' libmbedtls-dev 2>/dev/null | head -n 1)
sv=$(stunnel4 -version 2>&1 | awk '/^stunnel/ {print $2; exit}')
ssv=$(ss-server -h 2>/dev/null | awk '/shadowsocks-libev/ {print $2; exit}')
pv=$(python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)' 2>/dev/null)
{
echo
echo "kinglet $kv ($KINGLET, mbedtls ${mv:-?}), stunnel4 ${sv:-?}, shadowsocks-libev ${ssv:-?}; all at their defaults except what is shown. Client and origin are tests/bench/tlsload.py (Python, $pv), which bounds the wall-clock figures: compare rows, not absolute numbers. $(nproc) cores, $(date -u +%Y-%m-%d)."
} >>"$out"
cat "$out"
