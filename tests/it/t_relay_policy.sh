#!/usr/bin/env bash
# t_relay_policy.sh - destination policy (default-forbidden classes, allow
# and deny lists), protocol errors with the right replies, and that bad
# clients leave other connections alone.
. "$(dirname "$0")/lib.sh"
PEER="python3 tests/it/relay_peer.py"

web=$(free_port); echo6=$(free_port)
pd=$(free_port); hd=$(free_port); pa=$(free_port); ha=$(free_port)
mkdir -p "$T_TMP/www"; echo "origin" >"$T_TMP/www/o.txt"
(cd "$T_TMP/www" && exec python3 -m http.server "$web" --bind 127.0.0.1 >/dev/null 2>&1) &
T_PIDS="$T_PIDS $!"
have6=0
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	have6=1
	$PEER serve "$echo6" echo ::1 & T_PIDS="$T_PIDS $!"
fi

cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 32M
[relay sdef]
type = socks5
listen = 127.0.0.1:$pd
max_conns = 32
[relay hdef]
type = http
listen = 127.0.0.1:$hd
max_conns = 32
[relay sallow]
type = socks5
listen = 127.0.0.1:$pa
max_conns = 32
allow_destinations = 127.0.0.0/8, ::1
deny_destinations = blocked.localhost
[relay hallow]
type = http
listen = 127.0.0.1:$ha
max_conns = 32
allow_destinations = 127.0.0.0/8 ::1
CONF
start_kinglet "$T_TMP/k.conf"
for p in $web $pd $hd $pa $ha; do wait_port "$p" || not_ok "port $p up"; done

# SOCKS5 request bytes: CONNECT to an address, reply code is byte 2 of the reply.
socks_rep() { # port, hex request (after the no-auth greeting) -> reply code hex
	local out
	out=$($PEER probe "127.0.0.1:$1" "050100$2")
	echo "${out:6:2}"
}
v4() { printf '05010001%02x%02x%02x%02x%04x' ${1//./ } "$2"; }
v6() { printf '05010004%s%04x' "$1" "$2"; }
LO6=00000000000000000000000000000001
MAPPED=00000000000000000000ffff7f000001

# Default policy: loopback, private, v6 loopback and v4-mapped loopback refused.
check "default: socks 127.0.0.1 -> 0x02" test "$(socks_rep "$pd" "$(v4 127.0.0.1 "$web")")" = 02
check "default: socks 10.1.2.3 -> 0x02" test "$(socks_rep "$pd" "$(v4 10.1.2.3 80)")" = 02
check "default: socks [::1] -> 0x02" test "$(socks_rep "$pd" "$(v6 $LO6 80)")" = 02
check "default: socks ::ffff:127.0.0.1 -> 0x02" test "$(socks_rep "$pd" "$(v6 $MAPPED "$web")")" = 02
check "default: socks localhost (resolves to loopback) -> 0x02" \
	test "$(socks_rep "$pd" "050100030$(printf '%x' 9)$(printf localhost | xxd -p)$(printf '%04x' "$web")")" = 02
code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
cc() { curl -s --max-time 10 -o /dev/null -w '%{http_connect}' -p "$@"; }
check "default: http CONNECT 127.0.0.1 -> 403" test "$(cc -x "http://127.0.0.1:$hd" "http://127.0.0.1:$web/o.txt")" = 403
check "default: http CONNECT 10.1.2.3 -> 403" test "$(cc -x "http://127.0.0.1:$hd" "http://10.1.2.3:80/")" = 403
check "default: http CONNECT [::1] -> 403" test "$(cc -x "http://127.0.0.1:$hd" "http://[::1]:80/")" = 403
check "default: http CONNECT [::ffff:127.0.0.1] -> 403" \
	test "$(cc -x "http://127.0.0.1:$hd" "http://[::ffff:127.0.0.1]:$web/")" = 403
check "default: http absolute-form 127.0.0.1 -> 403" test "$(code -x "http://127.0.0.1:$hd" "http://127.0.0.1:$web/o.txt")" = 403

# allow_destinations opens them.
check "allow: socks 127.0.0.1 -> 0x00" test "$(socks_rep "$pa" "$(v4 127.0.0.1 "$web")")" = 00
check "allow: socks ::ffff:127.0.0.1 -> 0x00" test "$(socks_rep "$pa" "$(v6 $MAPPED "$web")")" = 00
check "allow: socks 10.1.2.3 still refused -> 0x02" test "$(socks_rep "$pa" "$(v4 10.1.2.3 80)")" = 02
check "deny list by domain suffix: blocked.localhost -> 0x02" \
	test "$(socks_rep "$pa" "05010003$(printf '%02x' 17)$(printf blocked.localhost | xxd -p)0050")" = 02
body=$(curl -s --max-time 10 --socks5 "127.0.0.1:$pa" "http://127.0.0.1:$web/o.txt")
check "allow: curl through socks to the loopback origin" test "$body" = origin
body=$(curl -s --max-time 10 -x "http://127.0.0.1:$ha" "http://[::ffff:127.0.0.1]:$web/o.txt")
check "allow: http absolute-form to [::ffff:127.0.0.1]" test "$body" = origin
if [ "$have6" = 1 ]; then
	out=$(printf 'ping6' | $PEER push "127.0.0.1:$pa" socks5 ::1 "$echo6" 5 2>&1 | head -n 1)
	check "allow: socks to [::1] (IPv6 destination) relays" test -n "$out" -a "${out#error}" = "$out"
	check "allow: http CONNECT [::1] -> 200" test "$(cc -x "http://127.0.0.1:$ha" "http://[::1]:$echo6/")" = 200
else
	ok "# SKIP no IPv6 loopback"; ok "# SKIP no IPv6 loopback"
fi
check "unreachable: socks to a closed port -> 0x05 refused" \
	test "$(socks_rep "$pa" "$(v4 127.0.0.1 1)")" = 05
check "unresolvable: socks to nosuch.invalid -> 0x04" \
	test "$(socks_rep "$pa" "05010003$(printf '%02x' 13)$(printf nosuch.invalid | xxd -p | head -c 26)0050")" != 00
check "unreachable: http CONNECT to a closed port -> 502" test "$(cc -x "http://127.0.0.1:$ha" "http://127.0.0.1:1/")" = 502

# Malformed SOCKS5: wrong version (no reply, closed), BIND (0x07),
# UDP ASSOCIATE (0x07), unknown address type (0x08), bad request version.
check "socks: SOCKS4 greeting closed without a reply" test -z "$($PEER probe "127.0.0.1:$pa" 04010050 7f000001 2>/dev/null | tr -d '\n')"
check "socks: BIND -> 0x07" test "$(socks_rep "$pa" 050200017f0000010050)" = 07
check "socks: UDP ASSOCIATE -> 0x07" test "$(socks_rep "$pa" 050300017f0000010050)" = 07
check "socks: address type 5 -> 0x08" test "$(socks_rep "$pa" 050100057f0000010050)" = 08
check "socks: request version 4 -> 0x01" test "$(socks_rep "$pa" 040100017f0000010050)" = 01
check "socks: no acceptable method (only GSSAPI) -> ff" test "$($PEER probe "127.0.0.1:$pa" 050101)" = 05ff
check "socks: empty domain name -> 0x01" test "$(socks_rep "$pa" 05010003000050)" = 01

# Malformed HTTP.
hprobe() { $PEER probe "127.0.0.1:$ha" "$(printf "$1" | xxd -p | tr -d '\n')" | xxd -r -p | head -n 1 | tr -d '\r'; }
check "http: garbage request line -> 400" grep -q "^HTTP/1.1 400" <<<"$(hprobe 'GARBAGE\r\n\r\n')"
check "http: CONNECT without a port -> 400" grep -q "^HTTP/1.1 400" <<<"$(hprobe 'CONNECT example.com HTTP/1.1\r\n\r\n')"
check "http: origin-form GET -> 400" grep -q "^HTTP/1.1 400" <<<"$(hprobe 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')"
check "http: HTTP/2.0 -> 505" grep -q "^HTTP/1.1 505" <<<"$(hprobe 'GET http://a/ HTTP/2.0\r\n\r\n')"
check "http: https:// absolute-form -> 400" grep -q "^HTTP/1.1 400" <<<"$(hprobe 'GET https://127.0.0.1/ HTTP/1.1\r\n\r\n')"
long=$(head -c 20000 /dev/zero | tr '\0' a)
check "http: a head over one buffer -> 431/414" grep -qE "^HTTP/1.1 (431|414)" <<<"$(hprobe "GET http://127.0.0.1/$long HTTP/1.1\r\n\r\n")"

# Others are unaffected: a transfer running across all of the above.
(curl -s --max-time 20 --limit-rate 200k --socks5 "127.0.0.1:$pa" "http://127.0.0.1:$web/o.txt" >"$T_TMP/par") &
cpid=$!
for i in $(seq 1 20); do $PEER probe "127.0.0.1:$pa" 0401 >/dev/null; $PEER probe "127.0.0.1:$ha" "$(printf 'BAD\r\n\r\n' | xxd -p)" >/dev/null; done
wait $cpid
check "a good client next to 40 bad ones is served" test "$(cat "$T_TMP/par")" = origin
body=$(curl -s --max-time 10 --socks5-hostname "127.0.0.1:$pa" "http://localhost:$web/o.txt")
check "the listener still serves after the bad clients" test "$body" = origin
check "still one process, one thread" test "$(threads_of "$KL_PID")" -eq 1
stop_kinglet
check "SIGTERM: clean exit" test "$KL_RC" -eq 0
[ "$T_FAIL" -gt 0 ] && tail -n 40 "$T_TMP/kinglet.log" | sed "s/^/# /"
t_done
