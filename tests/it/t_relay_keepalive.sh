#!/usr/bin/env bash
# t_relay_keepalive.sh - plain http:// forwarding keeps the client
# connection for the next request: curl fetches several URLs in one
# command line through the http listener and must reuse its proxy
# connection (one accept in /metrics), byte-exact, across Content-Length,
# chunked, HEAD, 304, POST bodies; a close-delimited response ends the
# client connection; the origin connection is reused for the same host.
. "$(dirname "$0")/lib.sh"

org=$(free_port); org2=$(free_port); ph=$(free_port); adm=$(free_port)
www="$T_TMP/www"; mkdir -p "$www"
head -c 1048576 /dev/urandom >"$www/big"
head -c 70001 /dev/urandom >"$www/mid"
echo "small body" >"$www/small"
: >"$www/empty"
python3 tests/it/ka_origin.py "$org" "$www" & T_PIDS="$T_PIDS $!"
python3 tests/it/ka_origin.py "$org2" "$www" & T_PIDS="$T_PIDS $!"

cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 32M
[admin]
listen = 127.0.0.1:$adm
[relay web]
type = http
listen = 127.0.0.1:$ph
buffer_kb = 16
allow_destinations = 127.0.0.0/8
CONF
start_kinglet "$T_TMP/k.conf"
for p in $org $org2 $ph $adm; do wait_port "$p" || not_ok "port $p up"; done

P="http://127.0.0.1:$ph"
O="http://127.0.0.1:$org"
accepted() {
	curl -s --max-time 5 "http://127.0.0.1:$adm/metrics" |
		awk '$1 == "kinglet_relay_accepted_total{listener=\"web\"}" { print $2 }'
}
origin_conns() { curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$1/conns"; }
same() { cmp -s "$1" "$2"; }
# run NAME curl-args...: curl -v into $T_TMP/v, with the accept count before and after
run() {
	local name=$1; shift
	A0=$(accepted)
	curl -sS -v --max-time 30 "$@" 2>"$T_TMP/v"
	RC=$?
	A1=$(accepted)
	[ "$RC" = 0 ] || { diag "$name: curl exited $RC"; sed 's/^/#   /' "$T_TMP/v" | tail -20; }
}
reused() { grep -q "Re-using existing connection" "$T_TMP/v"; }
one_accept() { test "$((A1 - A0))" = 1; }

# Content-Length, chunked, Content-Length again, on one client connection and one origin connection.
c0=$(origin_conns "$org")
run "cl+chunked+cl" -x "$P" -o "$T_TMP/a1" "$O/f/big" -o "$T_TMP/a2" "$O/chunked/mid" -o "$T_TMP/a3" "$O/f/small"
c1=$(origin_conns "$org")
check "three GETs: curl re-used the proxy connection" reused
check "three GETs: one accept in /metrics ($((A1 - A0)))" one_accept
check "Content-Length body byte-exact (1 MB)" same "$T_TMP/a1" "$www/big"
check "chunked body byte-exact after curl decoded it" same "$T_TMP/a2" "$www/mid"
check "third body byte-exact" same "$T_TMP/a3" "$www/small"
check "origin connection reused: one origin connection for three requests ($((c1 - c0 - 1)))" \
	test "$((c1 - c0 - 1))" = 1
check "response carries Via" grep -qi "^< Via: 1.1 kinglet" "$T_TMP/v"
check "hop-by-hop response fields dropped (Keep-Alive, Connection-listed)" \
	sh -c "! grep -qiE '^< (Keep-Alive|X-Secret|Connection: X-Secret)' '$T_TMP/v'"
check "chunked coding passed unchanged (Transfer-Encoding kept)" grep -qi "^< Transfer-Encoding: chunked" "$T_TMP/v"

# The raw chunked bytes are passed unchanged: fetch them undecoded.
curl -sS --max-time 30 --raw -x "$P" -o "$T_TMP/raw" "$O/chunked/small"
check "chunked framing bytes unchanged (extensions and trailer kept)" \
	test "$(head -c 12 "$T_TMP/raw" | od -c | head -1 | tr -s ' ')" = "$(printf '1;ext=1\r\ns\r\n' | od -c | head -1 | tr -s ' ')"

# HEAD responses have no body: two HEADs then a GET on one connection.
run "HEAD" -x "$P" -I -o /dev/null "$O/f/big" -o /dev/null "$O/chunked/mid"
check "two HEADs: connection re-used, one accept" sh -c "grep -q 'Re-using existing connection' '$T_TMP/v' && test $((A1 - A0)) = 1"
check "HEAD: Content-Length of the entity reported" grep -qi "^< Content-Length: 1048576" "$T_TMP/v"
run "HEAD then GET" -x "$P" -I -o /dev/null "$O/f/small" --next -x "$P" -o "$T_TMP/h2" "$O/f/mid"
check "HEAD then GET: re-used, one accept, body byte-exact" \
	sh -c "grep -q 'Re-using existing connection' '$T_TMP/v' && test $((A1 - A0)) = 1 && cmp -s '$T_TMP/h2' '$www/mid'"

# 304 has no body.
run "304" -x "$P" -H 'If-None-Match: "v1"' -o /dev/null "$O/f/big" -o /dev/null "$O/f/mid"
check "304 then 304: re-used, one accept" sh -c "grep -q 'Re-using existing connection' '$T_TMP/v' && test $((A1 - A0)) = 1"
check "304 status seen" grep -q "^< HTTP/1.1 304" "$T_TMP/v"

# Request bodies: Content-Length and chunked POSTs, then a GET, on one connection.
run "POST" -x "$P" --data-binary "@$www/mid" -o "$T_TMP/p1" "$O/echo" \
	--next -x "$P" -H "Transfer-Encoding: chunked" --data-binary "@$www/big" -o "$T_TMP/p2" "$O/echo" \
	--next -x "$P" -o "$T_TMP/p3" "$O/f/small"
check "POST: re-used, one accept ($((A1 - A0)))" sh -c "grep -q 'Re-using existing connection' '$T_TMP/v' && test $((A1 - A0)) = 1"
check "POST with Content-Length: body echoed byte-exact (70001 B)" same "$T_TMP/p1" "$www/mid"
check "chunked POST: body echoed byte-exact (1 MB)" same "$T_TMP/p2" "$www/big"
check "GET after the POSTs byte-exact" same "$T_TMP/p3" "$www/small"

# Another origin on the same client connection: connects anew, client connection kept.
run "two origins" -x "$P" -o "$T_TMP/o1" "$O/f/mid" -o "$T_TMP/o2" "http://127.0.0.1:$org2/f/mid"
check "two origins: re-used, one accept" sh -c "grep -q 'Re-using existing connection' '$T_TMP/v' && test $((A1 - A0)) = 1"
check "two origins: both bodies byte-exact" sh -c "cmp -s '$T_TMP/o1' '$www/mid' && cmp -s '$T_TMP/o2' '$www/mid'"

# A close-delimited response ends the client connection: the next URL needs a new one.
run "close" -x "$P" -o "$T_TMP/c1" "$O/close/mid" -o "$T_TMP/c2" "$O/f/small"
check "close-delimited body byte-exact" same "$T_TMP/c1" "$www/mid"
check "close-delimited: not re-used, two accepts ($((A1 - A0)))" \
	sh -c "! grep -q 'Re-using existing connection' '$T_TMP/v' && test $((A1 - A0)) = 2"
check "close-delimited: kinglet said Connection: close" grep -qi "^< Connection: close" "$T_TMP/v"
check "after a close-delimited response the next body is byte-exact" same "$T_TMP/c2" "$www/small"

# Client asks to close: answered with Connection: close and not reused.
run "client close" -x "$P" -H "Connection: close" -o /dev/null "$O/f/small" -o /dev/null "$O/f/small"
check "Connection: close from the client: two accepts" test "$((A1 - A0))" = 2

# HTTP/1.0 client with keep-alive.
run "1.0" -0 -x "$P" -H "Proxy-Connection: keep-alive" -o "$T_TMP/z1" "$O/f/mid" -o "$T_TMP/z2" "$O/f/small"
check "HTTP/1.0 keep-alive: told keep-alive, one accept" \
	sh -c "grep -qi '^< Connection: keep-alive' '$T_TMP/v' && test $((A1 - A0)) = 1 && cmp -s '$T_TMP/z1' '$www/mid'"

check "kinglet still running" kill -0 "$KL_PID"
check "one thread" test "$(threads_of "$KL_PID")" -eq 1
stop_kinglet
t_done
