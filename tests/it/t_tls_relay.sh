#!/usr/bin/env bash
# t_tls_relay.sh - TLS listeners and upstream chaining with real clients:
# curl through an https:// proxy (preemptive auth and 407-then-retry on the
# same connection), SOCKS5 inside TLS, a router kinglet chained over TLS to a
# "VPS" kinglet (50 MB each way, sha256), upstream refusals (wrong CA,
# expired certificate, wrong name, wrong pin, wrong credentials) with their
# log lines, and broken handshakes that disturb nobody else.
. "$(dirname "$0")/lib.sh"
PEER="python3 tests/it/relay_peer.py"
TPEER="python3 tests/it/tls_peer.py"
SIZE=${TLS_BIG_BYTES:-52428800}     # 50 MB each way
C=$T_TMP/certs
mkdir -p "$C" "$T_TMP/www"
check "test certificates made with openssl" make_certs "$C"

web=$(free_port); sink=$(free_port); echo_p=$(free_port); adm=$(free_port)
vgood=$(free_port); vold=$(free_port); vwrong=$(free_port); vsocks=$(free_port)
rgood=$(free_port); rca=$(free_port); rold=$(free_port); rname=$(free_port); rpin=$(free_port)
rpinok=$(free_port); rcreds=$(free_port); rhttp=$(free_port)
head -c "$SIZE" /dev/urandom >"$T_TMP/www/big"
echo "hello from the origin" >"$T_TMP/www/small.txt"
(cd "$T_TMP/www" && exec python3 -m http.server "$web" --bind 127.0.0.1 >/dev/null 2>&1) &
T_PIDS="$T_PIDS $!"
$PEER serve "$sink" sink & T_PIDS="$T_PIDS $!"
$PEER serve "$echo_p" echo & T_PIDS="$T_PIDS $!"

tls_http() { # name port cert key
	printf '[relay %s]\ntype = http\nlisten = 127.0.0.1:%s\nusers = alice:secret\nallow_destinations = 127.0.0.0/8\ntls_cert = %s\ntls_key = %s\ntls_sessions = 32\nmax_conns = 64\n' "$@"
}
cat >"$T_TMP/vps.conf" <<CONF
[global]
memory_limit = 48M
log_level = info
[admin]
listen = 127.0.0.1:$adm
$(tls_http vgood "$vgood" "$C/srv.pem" "$C/srv.key")
$(tls_http vold "$vold" "$C/old.pem" "$C/srv.key")
$(tls_http vwrong "$vwrong" "$C/wrong.pem" "$C/wrong.key")
[relay vsocks]
type = socks5
listen = 127.0.0.1:$vsocks
allow_destinations = 127.0.0.0/8
tls_cert = $C/srv.pem
tls_key = $C/srv.key
tls_sessions = 8
max_conns = 16
CONF
chain() { # name port upstream_port ca [extra lines]
	printf '[relay %s]\ntype = socks5\nlisten = 127.0.0.1:%s\nallow_destinations = 127.0.0.0/8\nmax_conns = 32\ntls_sessions = 16\nupstream = localhost:%s\nupstream_tls = on\nupstream_ca = %s\nupstream_user = alice\n' "$@"
}
cat >"$T_TMP/router.conf" <<CONF
[global]
memory_limit = 48M
log_level = info
$(chain rgood "$rgood" "$vgood" "$C/ca.pem")
upstream_pass = secret
$(chain rca "$rca" "$vgood" "$C/other.pem")
upstream_pass = secret
$(chain rold "$rold" "$vold" "$C/ca.pem")
upstream_pass = secret
$(chain rname "$rname" "$vwrong" "$C/ca.pem")
upstream_pass = secret
$(chain rpin "$rpin" "$vgood" "$C/ca.pem")
upstream_pass = secret
upstream_pin = $(cat "$C/wrongpin.txt")
$(chain rpinok "$rpinok" "$vgood" "$C/ca.pem")
upstream_pass = secret
upstream_pin = $(cat "$C/pin.txt")
$(chain rcreds "$rcreds" "$vgood" "$C/ca.pem")
upstream_pass = wrong
[relay rhttp]
type = http
listen = 127.0.0.1:$rhttp
allow_destinations = 127.0.0.0/8
upstream = localhost:$vgood
upstream_tls = on
upstream_ca = $C/ca.pem
upstream_user = alice
upstream_pass = wrong
CONF
KINGLET_LOG=$T_TMP/kinglet.log
start_kinglet "$T_TMP/vps.conf"; VPS=$KL_PID
start_kinglet "$T_TMP/router.conf"; ROUTER=$KL_PID
for p in $web $sink $echo_p $vgood $vold $vwrong $vsocks $rgood $rpinok $rhttp; do wait_port "$p" || not_ok "port $p up"; done

# 1. curl through the TLS http listener.
px=(--max-time 20 -sS --proxy "https://localhost:$vgood" --proxy-cacert "$C/ca.pem")
small="http://127.0.0.1:$web/small.txt"
check "https proxy, absolute-form, preemptive Basic auth" test "$(curl "${px[@]}" -U alice:secret "$small")" = "hello from the origin"
check "https proxy, CONNECT, preemptive Basic auth" test "$(curl "${px[@]}" -p --proxy-user alice:secret "$small")" = "hello from the origin"
out=$(curl "${px[@]}" -v -p --proxy-anyauth --proxy-user alice:secret "$small" 2>&1)
check "https proxy, CONNECT: 407 then the retry on the same TLS connection" \
	test "$(grep -c 'Client hello' <<<"$out")" = 1 -a "$(grep -c '^< HTTP/1.1 407' <<<"$out")" = 1 -a "$(grep -c 'hello from the origin' <<<"$out")" = 1
out=$(curl "${px[@]}" -v --proxy-anyauth --proxy-user alice:secret "$small" 2>&1)
check "https proxy, absolute-form: 407 then the retry on the same TLS connection" \
	test "$(grep -c 'Client hello' <<<"$out")" = 1 -a "$(grep -c 'Re-using existing connection' <<<"$out")" = 1 -a "$(grep -c 'hello from the origin' <<<"$out")" = 1
code=$(curl "${px[@]}" -o /dev/null -w '%{http_code}' -U alice:wrong "$small")
check "https proxy, wrong password: 407" test "$code" = 407
alpn=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$vgood" -CAfile "$C/ca.pem" -alpn h2,http/1.1 2>/dev/null | grep -a '^ALPN protocol')
check "TLS listener picks ALPN http/1.1 when offered h2 too ($alpn)" test "$alpn" = "ALPN protocol: http/1.1"

# 2. SOCKS5 inside TLS (python ssl client; openssl s_client as a second opinion).
check "SOCKS5 inside TLS reaches an echo server" test "$($TPEER socks "127.0.0.1:$vsocks" "$C/ca.pem" 127.0.0.1 "$echo_p")" = "echo ok"
got=$( { printf '\005\001\000'; sleep 0.5; } | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$vsocks" -CAfile "$C/ca.pem" -verify_return_error 2>/dev/null | od -An -tx1 | tr -d ' \n')
check "openssl s_client: SOCKS5 greeting inside TLS answered 05 00" test "$got" = "0500"

# 3. Chain: router socks5 -> TLS -> VPS http CONNECT -> origin, 50 MB each way.
want=$(sha256sum <"$T_TMP/www/big" | cut -d' ' -f1); mb=$((SIZE / 1048576))
t0=$(date +%s.%N)
curl -sS --max-time 120 -o "$T_TMP/got" --socks5 "127.0.0.1:$rgood" "http://127.0.0.1:$web/big" &
dlpid=$!
# 4. Broken handshakes on the VPS listener while the chained download runs.
for m in junk hello v2; do
	check "broken handshake ($m) closed" test "$($TPEER garbage "127.0.0.1:$vgood" "$m")" = closed
done
wait "$dlpid"; t1=$(date +%s.%N)
check "chained download: $mb MB byte-exact through router -> TLS -> VPS (undisturbed by broken handshakes)" \
	test "$(sha256sum <"$T_TMP/got" | cut -d' ' -f1)" = "$want"
diag "chained download: $(awk -v s="$SIZE" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f MB/s", s/1048576/(b-a)}')"
t0=$(date +%s.%N)
out=$($PEER push "127.0.0.1:$rgood" socks5 127.0.0.1 "$sink" "$SIZE"); t1=$(date +%s.%N)
check "chained upload: $mb MB byte-exact, reply after half-close" test -n "$(sed -n 1p <<<"$out")" -a "$(sed -n 1p <<<"$out")" = "$(sed -n 2p <<<"$out")"
diag "chained upload: $(awk -v s="$SIZE" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f MB/s", s/1048576/(b-a)}')"
check "chain with the right pin works" test "$(curl -sS --max-time 10 --socks5 "127.0.0.1:$rpinok" "$small")" = "hello from the origin"
m=$(curl -sS --max-time 5 "http://127.0.0.1:$adm/metrics")
n=$(grep 'kinglet_relay_tls_handshake_failures_total{listener="vgood"}' <<<"$m" | awk '{print $2}')
check "VPS counted the broken handshakes ($n)" test "${n:-0}" -ge 3
check "VPS logged the broken handshakes" test "$(grep -c 'relay vgood: c[0-9]* tls handshake failed' "$T_TMP/kinglet.log")" -ge 3

# 5. Refusals: the client sees a SOCKS5 failure, the log says why.
refused() { # name listener log-pattern
	local port=$2
	curl -sS --max-time 10 --socks5 "127.0.0.1:${!port}" "$small" >/dev/null 2>&1
	local rc=$?
	sleep 0.2
	if [ "$rc" -ne 0 ] && grep -q "relay $2: c[0-9]* upstream localhost:[0-9]* refused 127.0.0.1:$web: .*$3" "$T_TMP/kinglet.log"; then
		ok "$1: refused (curl exit $rc), logged"
	else
		not_ok "$1: refused (curl exit $rc), logged"
		grep "relay $2" "$T_TMP/kinglet.log" | tail -3 | sed 's/^/# /'
	fi
}
refused "wrong CA" rca "not correctly signed by the trusted CA"
refused "expired certificate" rold "validity has expired"
refused "wrong name" rname "Common Name (CN) does not match"
refused "wrong pin" rpin "pin mismatch"
refused "wrong credentials" rcreds "upstream refused credentials"
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_connect}' -p -x "http://127.0.0.1:$rhttp" "$small" 2>/dev/null)
check "http client behind a refusing upstream gets 502" test "$code" = 502
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_connect}' -p -x "http://127.0.0.1:$rhttp" "http://10.1.2.3:80/" 2>/dev/null)
check "policy still judges the destination the client asked for (403, upstream not used)" test "$code" = 403

stop_pid "$ROUTER"; check "router stops cleanly" test "$STOP_RC" = 0
stop_pid "$VPS"; check "VPS stops cleanly" test "$STOP_RC" = 0
t_done
