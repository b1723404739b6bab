#!/usr/bin/env bash
# t_thumbs_https.sh - https:// sources and host names: a throw-away CA,
# https origins on loopback (tests/it/https_origin.py) with a good, a
# foreign, a misnamed and an expired certificate, redirects between the
# http origin (tests/it/origin.py) and https both ways, TLS session
# exhaustion, name lookups through the resolver ("localhost" from
# /etc/hosts), and RSS around 20 https thumbnails.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 1
C=../shared/corpus
pki=$T_TMP/pki
www=$T_TMP/www
mkdir -p "$pki" "$www/sub"
cp "$C/jpeg/testorig.jpg" "$www/img.jpg"
cp "$C/pngsuite/basn2c08.png" "$www/img.png"

# --- certificates: a CA, the good server, a foreign CA, a wrong name, an expired one ---
if ! (cd "$pki" && exec >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=kl-it-ca &&
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost &&
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' >ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other-ca &&
	openssl x509 -req -in srv.csr -CA other.pem -CAkey other.key -CAcreateserial -out foreign.pem -days 2 -extfile ext &&
	openssl req -newkey rsa:2048 -nodes -keyout wrong.key -out wrong.csr -subj /CN=wrong.example &&
	printf 'subjectAltName=DNS:wrong.example\n' >wext &&
	openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out wrong.pem -days 2 -extfile wext &&
	printf '[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' >ca.cnf &&
	: >index.txt && echo 01 >serial &&
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in srv.csr -out old.pem -notext \
		-startdate 20200101000000Z -enddate 20200102000000Z -extfile ext); then
	echo "1..0 # SKIP openssl cannot make the test certificates"
	exit 0
fi
ok "throw-away CA and certificates made with openssl"

op=$(free_port); hp=$(free_port); fp=$(free_port); wp=$(free_port); xp=$(free_port); vp=$(free_port)
tp=$(free_port); tp2=$(free_port); tp3=$(free_port); ap=$(free_port)
python3 tests/it/origin.py "$op" "$www" 2>"$T_TMP/origin.log" &
T_PIDS="$T_PIDS $!"
origin() { # addr port cert key
	python3 tests/it/https_origin.py "$1" "$2" "$pki/$3" "$pki/$4" "$www" 2>>"$T_TMP/https-origin.log" &
	T_PIDS="$T_PIDS $!"
}
origin 127.0.0.1 "$hp" srv.pem srv.key
origin 127.0.0.1 "$fp" foreign.pem srv.key
origin 127.0.0.1 "$wp" wrong.pem wrong.key
origin 127.0.0.1 "$xp" old.pem srv.key
origin ::1 "$vp" srv.pem srv.key

conf() { # port, extra lines
	cat <<CONF
[global]
memory_limit = 40M
[thumbs]
listen = 127.0.0.1:$1
jobs = 2
arena = 8M
queue = 16
download_timeout = 3s
ca_file = $pki/ca.pem
$2
CONF
}
{ printf '[admin]\nlisten = 127.0.0.1:%s\n' "$ap"; conf "$tp" "allow_private_sources = yes"; } >"$T_TMP/k.conf"
conf "$tp2" $'allow_private_sources = yes\ntls_sessions = 1' >"$T_TMP/k2.conf"
conf "$tp3" "" >"$T_TMP/k3.conf"
start_kinglet "$T_TMP/k.conf"; k1=$KL_PID
start_kinglet "$T_TMP/k2.conf"; k2=$KL_PID
start_kinglet "$T_TMP/k3.conf"; k3=$KL_PID
if wait_port "$op" && wait_port "$hp" && wait_port "$fp" && wait_port "$wp" && wait_port "$xp" &&
	wait_port "$vp" ::1 && wait_port "$tp" && wait_port "$tp2" && wait_port "$tp3"; then
	ok "origins and kinglet listen"
else
	not_ok "start"; cat "$T_TMP/kinglet.log" "$T_TMP/https-origin.log"; exit 1
fi

get() { # path [port]
	rm -f "$T_TMP/body"
	code=$(curl -s -m 20 -D "$T_TMP/hdr" -o "$T_TMP/body" -w '%{http_code}' "http://127.0.0.1:${2:-$tp}/insecure$1")
}
body() { head -c 200 "$T_TMP/body" | tr '\n' ' '; }
size_is() { [ "$code" = 200 ] && [ "$(identify -format '%wx%h' "$T_TMP/body" 2>/dev/null)" = "$1" ]; }
expect() { # what, status, body regexp, path [port]
	get "$4" "$5"
	if [ "$code" = "$2" ] && grep -qE "$3" "$T_TMP/body"; then ok "$1: $code $(body)"
	else not_ok "$1: status $code, want $2 /$3/: $(body)"; fi
}
H=https://localhost:$hp
O=http://127.0.0.1:$op
rss_start=$(rss_kb "$k1")

# --- the good origin, by name and by address ---
get "/rs:fit:300:300/plain/$H/f/img.jpg"
check "https://localhost/img.jpg: fit 300x300 gives 227x149 ($code)" size_is 227x149
get "/w:100/plain/https://127.0.0.1:$hp/f/img.png"
check "https://127.0.0.1/img.png: w:100 of a 32x32 PNG stays 32x32 ($code)" size_is 32x32
get "/w:16/plain/https://127.0.0.1:$hp/f/img.png"
check "https://127.0.0.1/img.png: w:16 gives 16x16 ($code)" size_is 16x16
get "/w:100/plain/https://[::1]:$vp/f/img.jpg"
check "https://[::1] (IPv6, iPAddress entry): 100x66 ($code)" size_is 100x66
get "/w:100/$(printf %s "$H/f/img.jpg" | base64 -w0 | tr '+/' '-_' | tr -d =)"
check "base64url https source" size_is 100x66
get "/w:100/plain/http://localhost:$op/f/img.jpg"
check "http://localhost (resolved from /etc/hosts) served" size_is 100x66

# --- redirects between http and https ---
get "/w:100/plain/$O/to/$H/f/img.jpg"
check "http origin -> https redirect followed" size_is 100x66
get "/w:100/plain/$H/to/$O/f/img.jpg"
check "https origin -> http redirect followed" size_is 100x66
get "/w:100/plain/$O/to/$H/to/$O/f/img.jpg"
check "http -> https -> http followed" size_is 100x66

# --- certificates that must be refused: 502 with the reason, in the body and the access log ---
expect "certificate from another CA" 502 "certificate verification failed: .*not correctly signed" \
	"/w:100/plain/https://localhost:$fp/f/img.jpg"
expect "certificate for another name (by name)" 502 "certificate verification failed: .*(CN|name)" \
	"/w:100/plain/https://localhost:$wp/f/img.jpg"
expect "certificate for another name (by address)" 502 "certificate verification failed: .*does not name 127.0.0.1" \
	"/w:100/plain/https://127.0.0.1:$wp/f/img.jpg"
expect "expired certificate" 502 "certificate verification failed: .*expired" \
	"/w:100/plain/https://localhost:$xp/f/img.jpg"
expect "redirect to a bad certificate" 502 "not correctly signed" \
	"/w:100/plain/$O/to/https://localhost:$fp/f/img.jpg"
check "the reason is in the access log" grep -q "GET /insecure/w:100/plain/https://localhost:$fp/f/img.jpg 502 .*certificate verification failed" "$T_TMP/kinglet.log"

# --- names, private addresses, timeouts ---
expect "unknown host name" 404 "^cannot resolve source host nosuch\.onion" "/w:100/plain/https://nosuch.onion/x.jpg"
expect "localhost refused without allow_private_sources" 404 "not public \(loopback\)" "/w:100/plain/$H/f/img.jpg" "$tp3"
expect "private IPv6 refused too" 404 "not public" "/w:100/plain/https://[::1]:$vp/f/img.jpg" "$tp3"
expect "https with nothing listening" 502 "connect" "/w:100/plain/https://localhost:1/x.jpg"
# a plain TCP listener that never speaks TLS: download_timeout covers the handshake
sp=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(8); c=[]; [c.append(s.accept()) for _ in range(8)]; time.sleep(60)' "$sp" &
T_PIDS="$T_PIDS $!"
wait_port "$sp"
t0=$(date +%s%N)
expect "silent server: the handshake is under download_timeout" 504 "timed out" "/w:100/plain/https://127.0.0.1:$sp/x.jpg"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "handshake timeout after ~3 s (${ms} ms)" test "$ms" -ge 2500 -a "$ms" -lt 6000

# --- TLS sessions exhausted: 503 with Retry-After, then service again ---
curl -s -m 20 -o /dev/null "http://127.0.0.1:$tp2/insecure/w:100/plain/$H/stall/img.jpg" &
hold=$!
sleep 0.5
get "/w:100/plain/$H/f/img.jpg" "$tp2"
check "second https download with tls_sessions = 1: 503 ($(body))" bash -c '[ "$1" = 503 ] && grep -q "TLS session" "$2"' _ "$code" "$T_TMP/body"
check "503 carries Retry-After" grep -qi '^Retry-After:' "$T_TMP/hdr"
get "/w:100/plain/$O/f/img.jpg" "$tp2"
check "plain http still served meanwhile" size_is 100x66
wait "$hold"
get "/w:100/plain/$H/f/img.jpg" "$tp2"
check "the session came back: https served again" size_is 100x66

# --- RSS around 20 https thumbnails ---
get "/w:100/plain/$H/f/img.jpg"
rss0=$(rss_kb "$k1")
n=0
for i in $(seq 1 20); do
	get "/w:$((80 + i))/plain/$H/f/img.jpg"
	[ "$code" = 200 ] && n=$((n + 1))
done
rss1=$(rss_kb "$k1")
check "20 https thumbnails served ($n)" test "$n" = 20
diag "RSS at start: $rss_start KB; before 20 https thumbnails: $rss0 KB; after: $rss1 KB"
curl -s "http://127.0.0.1:$ap/metrics" >"$T_TMP/metrics"
if grep -q '^kinglet_libc_heap_size_bytes 0' "$T_TMP/metrics"; then
	diag "system malloc (sanitizer build): RSS and libc.heap checks skipped"
else
	check "RSS grows by less than 256 KB over 20 https thumbnails ($rss0 -> $rss1 KB)" test $((rss1 - rss0)) -lt 256
	diag "libc.heap (mbedtls) after them: $(grep -E '^kinglet_libc_heap_(used|peak|size)_bytes' "$T_TMP/metrics" | tr '\n' ' ')"
	check "no malloc refused" grep -q '^kinglet_libc_heap_refused_total 0' "$T_TMP/metrics"
fi
check "one thread" test "$(threads_of "$k1")" = 1
check "no crash, no arena left behind" bash -c '! grep -qE "still in flight|assert" "$1"' _ "$T_TMP/kinglet.log"
stop_pid "$k1"; check "SIGTERM: exit 0" test "$STOP_RC" = 0
stop_pid "$k2"; stop_pid "$k3"
t_done
