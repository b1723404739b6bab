#!/usr/bin/env bash
# t_relay_basic.sh - SOCKS5, HTTP (CONNECT and absolute-form) and forward
# listeners with real clients (curl, a python peer) against loopback
# origins: byte-exact transfers both ways, half-close, auth.
. "$(dirname "$0")/lib.sh"
PEER="python3 tests/it/relay_peer.py"
SIZE=${RELAY_BIG_BYTES:-104857600}     # 100 MB each way

web=$(free_port); sink=$(free_port); src=$(free_port)
ps=$(free_port); ph=$(free_port); pf=$(free_port); pa=$(free_port); pha=$(free_port)
mkdir -p "$T_TMP/www"
head -c "$SIZE" /dev/urandom >"$T_TMP/www/big"
echo "hello from the origin" >"$T_TMP/www/small.txt"
(cd "$T_TMP/www" && exec python3 -m http.server "$web" --bind 127.0.0.1 >/dev/null 2>&1) &
T_PIDS="$T_PIDS $!"
$PEER serve "$sink" sink & T_PIDS="$T_PIDS $!"
$PEER serve "$src" "source:$SIZE" & T_PIDS="$T_PIDS $!"

cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 64M
[relay socks]
type = socks5
listen = 127.0.0.1:$ps
allow_destinations = 127.0.0.0/8
[relay web]
type = http
listen = 127.0.0.1:$ph
allow_destinations = 127.0.0.0/8
[relay fwd]
type = forward
listen = 127.0.0.1:$pf
target = 127.0.0.1:$sink
[relay socksauth]
type = socks5
listen = 127.0.0.1:$pa
users = alice:secret
allow_destinations = 127.0.0.0/8
[relay webauth]
type = http
listen = 127.0.0.1:$pha
users = alice:secret
allow_destinations = 127.0.0.0/8
CONF
start_kinglet "$T_TMP/k.conf"
for p in $web $sink $src $ps $ph $pf $pa $pha; do wait_port "$p" || not_ok "port $p up"; done
want=$(sha256sum <"$T_TMP/www/big" | cut -d' ' -f1)
mb=$((SIZE / 1048576))

# Downloads through each listener type: sha256 at both ends.
timed() { # name, command...: runs, reports MB/s
	local name=$1 t0 t1; shift
	t0=$(date +%s.%N); "$@"; local rc=$?; t1=$(date +%s.%N)
	diag "$name: $(awk -v s="$SIZE" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f MB/s", s/1048576/(b-a)}')"
	return $rc
}
dl() { # name, curl args...
	local name=$1; shift
	rm -f "$T_TMP/got"
	timed "$name" curl -sS --max-time 60 -o "$T_TMP/got" "$@"
	check "$name: $mb MB byte-exact" test "$(sha256sum <"$T_TMP/got" | cut -d' ' -f1)" = "$want"
}
dl "socks5 download" --socks5 "127.0.0.1:$ps" "http://127.0.0.1:$web/big"
dl "socks5-hostname download (localhost via /etc/hosts)" --socks5-hostname "127.0.0.1:$ps" "http://localhost:$web/big"
dl "http CONNECT download" -p -x "http://127.0.0.1:$ph" "http://127.0.0.1:$web/big"
dl "http absolute-form download" -x "http://127.0.0.1:$ph" "http://127.0.0.1:$web/big"

# Uploads (client -> destination) with half-close: the client shuts its
# write side after the last byte and must still receive the sink's answer.
up() { # name, kind, via port
	local out
	out=$(timed "$1" $PEER push "127.0.0.1:$3" "$2" 127.0.0.1 "$sink" "$SIZE")
	local got sent
	got=$(sed -n 1p <<<"$out"); sent=$(sed -n 2p <<<"$out")
	check "$1: $mb MB byte-exact, reply after half-close" test -n "$got" -a "$got" = "$sent"
	[ "$got" = "$sent" ] || diag "got '$got' sent '$sent'"
}
up "socks5 upload" socks5 "$ps"
up "http CONNECT upload" connect "$ph"
up "forward upload" forward "$pf"

# Plain forwarding: Via added, keep-alive off toward the origin, small file.
body=$(curl -sS --max-time 10 -x "http://127.0.0.1:$ph" "http://127.0.0.1:$web/small.txt")
check "http absolute-form: small file" test "$body" = "hello from the origin"

# Auth: SOCKS5 user/password, HTTP Basic with 407.
body=$(curl -sS --max-time 10 --socks5 "alice:secret@127.0.0.1:$pa" "http://127.0.0.1:$web/small.txt")
check "socks5 auth: right password works" test "$body" = "hello from the origin"
curl -sS --max-time 10 --socks5 "alice:wrong@127.0.0.1:$pa" "http://127.0.0.1:$web/small.txt" >/dev/null 2>&1
check "socks5 auth: wrong password refused" test $? -ne 0
curl -sS --max-time 10 --socks5 "127.0.0.1:$pa" "http://127.0.0.1:$web/small.txt" >/dev/null 2>&1
check "socks5 auth: no credentials refused" test $? -ne 0
hdrs=$(curl -sS --max-time 10 -o /dev/null -D - -x "http://127.0.0.1:$pha" "http://127.0.0.1:$web/small.txt")
check "http auth: 407 without credentials" grep -q "^HTTP/1.1 407" <<<"$hdrs"
check "http auth: Proxy-Authenticate Basic realm=kinglet" grep -qi '^Proxy-Authenticate: Basic realm="kinglet"' <<<"$hdrs"
body=$(curl -sS --max-time 10 -U alice:secret -x "http://127.0.0.1:$pha" "http://127.0.0.1:$web/small.txt")
check "http auth: absolute-form with credentials" test "$body" = "hello from the origin"
body=$(curl -sS --max-time 10 -p -U alice:secret -x "http://127.0.0.1:$pha" "http://127.0.0.1:$web/small.txt")
check "http auth: CONNECT with credentials" test "$body" = "hello from the origin"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -U alice:wrong -x "http://127.0.0.1:$pha" "http://127.0.0.1:$web/small.txt")
check "http auth: wrong password 407" test "$code" = 407

check "one thread" test "$(threads_of "$KL_PID")" -eq 1
diag "kinglet RSS after the transfers: $(rss_kb "$KL_PID") KB"
check "log line at close names client, listener, destination, bytes, reason" \
	grep -qE 'relay socks: c[0-9]+ 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(127\.0\.0\.1:[0-9]+\) up [0-9]+ down [0-9]+ [0-9.]+s: done' "$T_TMP/kinglet.log"
stop_kinglet
check "SIGTERM: clean exit" test "$KL_RC" -eq 0
[ "$T_FAIL" -gt 0 ] && tail -n 30 "$T_TMP/kinglet.log" | sed "s/^/# /"
t_done
