#!/usr/bin/env bash
# t_thumbs_http.sh - http:// sources from a real origin on loopback
# (tests/it/origin.py): the whole corpus compared with its references, and
# every way an origin can misbehave mapped to imgproxy's status.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 1
C=../shared/corpus
CMP=../shared/tools/compare-thumb.sh
src=$T_TMP/src
mkdir -p "$src"
cp -r "$C/jpeg" "$C/pngsuite" "$src/"
cp ../shared/bench-images/photo-2mp.jpg "$src/"
op=$(free_port); tp=$(free_port); tp2=$(free_port)
python3 tests/it/origin.py "$op" "$src" 2>"$T_TMP/origin.log" &
T_PIDS="$T_PIDS $!"
conf() { # port, extra lines
	cat <<CONF
[global]
memory_limit = 40M
[thumbs]
listen = 127.0.0.1:$1
jobs = 2
arena = 8M
queue = 64
max_src_size = 256K
download_timeout = 2s
$2
CONF
}
conf "$tp" "allow_private_sources = yes" >"$T_TMP/k.conf"
conf "$tp2" $'allowed_sources = http://127.0.0.1:1/\n' >"$T_TMP/k2.conf"
start_kinglet "$T_TMP/k.conf"
k1=$KL_PID
start_kinglet "$T_TMP/k2.conf"
k2=$KL_PID
if wait_port "$op" && wait_port "$tp" && wait_port "$tp2"; then ok "origin and kinglet listen"; else not_ok "start"; cat "$T_TMP/kinglet.log"; exit 1; fi
O=http://127.0.0.1:$op
get() { rm -f "$T_TMP/body"; code=$(curl -s -m 20 -D "$T_TMP/hdr" -o "$T_TMP/body" -w '%{http_code}' "http://127.0.0.1:$tp/insecure$1"); }
body() { head -c 120 "$T_TMP/body" | tr '\n' ' '; }

# --- the corpus over http:// against the references ---
corpus() { # file (under $src), ref folder, options, min PSNR
	local f=$1 ref=$C/ref/$2/$(basename "$1").png p
	get "/$3/plain/$O/f/$f"
	if [ "$code" != 200 ]; then not_ok "$f: status $code: $(body)"; return; fi
	p=$(bash "$CMP" "$ref" "$T_TMP/body" 2>&1)
	if [ "$p" = inf ] || awk -v p="$p" -v m="$4" 'BEGIN { exit !(p ~ /^[0-9.]+$/ && p + 0 >= m) }'; then
		ok "$f via http://: PSNR $p dB (>= $4)"
	else
		not_ok "$f via http://: PSNR $p dB (want >= $4)"
	fi
}
for f in "$src"/jpeg/*.jpg; do
	n=jpeg/$(basename "$f")
	case $n in
	*12.jpg) get "/rs:fit:300:300/q:90/plain/$O/f/$n"
		 check "$n (12-bit) is 422: $(body)" test "$code" = 422 ;;
	*) corpus "$n" jpeg rs:fit:300:300/q:90 30 ;;
	esac
done
for f in "$src"/jpeg/*.png; do corpus "jpeg/$(basename "$f")" jpeg rs:fit:300:300 35; done
for f in "$src"/pngsuite/*.png; do corpus "pngsuite/$(basename "$f")" pngsuite rs:fit:300:300 35; done
for f in "$src"/pngsuite/interlaced/*.png; do corpus "pngsuite/interlaced/$(basename "$f")" pngsuite/interlaced rs:fit:300:300 35; done

# --- framing and pacing ---
size_is() { [ "$code" = 200 ] && [ "$(identify -format '%wx%h' "$T_TMP/body" 2>/dev/null)" = "$1" ]; }
get "/w:100/plain/$O/chunked/jpeg/testorig.jpg"; check "chunked body served" size_is 100x66
get "/w:100/plain/$O/noclen/jpeg/testorig.jpg"; check "body without length (read to close) served" size_is 100x66
get "/w:100/plain/$O/more/jpeg/testorig.jpg"; check "more bytes than announced: the announced ones are served" size_is 100x66
get "/w:100/plain/$O/trickle/jpeg/testimgfst100.jpg"; check "trickled body (1 KB / 10 ms) served" size_is 100x66
get "/w:100/plain/$O/redir/3/jpeg/testorig.jpg"; check "3 redirects are followed" size_is 100x66
lm=$(curl -s -I "$O/f/jpeg/testorig.jpg" | grep -i '^Last-Modified:' | tr -d '\r')
get "/w:100/plain/$O/f/jpeg/testorig.jpg"
check "Last-Modified passed through ($lm)" grep -qi "^$lm" "$T_TMP/hdr"
e1=$(grep -i '^ETag:' "$T_TMP/hdr"); get "/w:100/plain/$O/f/jpeg/testorig.jpg"
check "same http URL twice: same ETag" test "$e1" = "$(grep -i '^ETag:' "$T_TMP/hdr")"
get "/w:100/$(printf %s "$O/f/jpeg/testorig.jpg" | base64 -w0 | tr '+/' '-_' | tr -d =)"; check "base64url source served" size_is 100x66

# --- misbehaving origins ---
expect() { # what, status, body regexp, path
	local t0=$(date +%s%N) ms
	get "$4"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [ "$code" = "$2" ] && grep -qE "$3" "$T_TMP/body"; then ok "$1: $code $(body)(${ms} ms)"
	else not_ok "$1: status $code, want $2 /$3/: $(body)"; fi
}
expect "stall past download_timeout" 504 "timed out" "/w:100/plain/$O/stall/jpeg/testimgfst100.jpg"
expect "early close" 502 "closed the connection early" "/w:100/plain/$O/early/jpeg/testimgfst100.jpg"
expect "Content-Length over max_src_size" 422 "max_src_size" "/w:100/plain/$O/huge"
expect "chunked body over max_src_size" 422 "max_src_size" "/w:100/plain/$O/chunked/photo-2mp.jpg"
expect "source 404" 404 "source answered 404" "/w:100/plain/$O/status/404"
expect "source 403" 404 "source answered 403" "/w:100/plain/$O/status/403"
expect "source 500" 502 "source answered 500" "/w:100/plain/$O/status/500"
expect "source 503" 502 "source answered 503" "/w:100/plain/$O/status/503"
expect "redirect loop" 404 "too many redirects" "/w:100/plain/$O/loop/0"
expect "4 redirects" 404 "too many redirects" "/w:100/plain/$O/redir/4/jpeg/testorig.jpg"
expect "not an image" 422 "." "/w:100/plain/$O/f/pngsuite/README"
expect "nothing listening" 502 "connect" "/w:100/plain/http://127.0.0.1:1/x.jpg"
expect "unknown host name" 404 "cannot resolve source host nosuch.onion" "/w:100/plain/http://nosuch.onion/x.jpg"
expect "https with nothing listening" 502 "connect" "/w:100/plain/https://127.0.0.1:1/x.jpg"
expect "unknown scheme" 404 "scheme" "/w:100/plain/ftp://127.0.0.1/x.jpg"
code=$(curl -s -o "$T_TMP/body" -w '%{http_code}' "http://127.0.0.1:$tp2/insecure/w:10/plain/$O/f/jpeg/testorig.jpg")
check "allowed_sources: other prefixes are 404 ($(body))" bash -c '[ "$1" = 404 ] && grep -q allowed_sources "$2"' _ "$code" "$T_TMP/body"
code=$(curl -s -o "$T_TMP/body" -w '%{http_code}' "http://127.0.0.1:$tp2/insecure/w:10/plain/http://127.0.0.1:1/x.jpg")
check "private addresses refused by default ($(body))" bash -c '[ "$1" = 404 ] && grep -q "not public" "$2"' _ "$code" "$T_TMP/body"
get "/w:100/plain/$O/f/jpeg/testorig.jpg"; check "still serving after all that" size_is 100x66
check "no arena left behind" bash -c '! grep -q "still in flight" "$1"' _ "$T_TMP/kinglet.log"
stop_pid "$k1"; check "SIGTERM: exit 0" test "$STOP_RC" = 0
stop_pid "$k2"
t_done
