#!/usr/bin/env bash
# t_thumbs_url.sh - the thumbs HTTP service with local:/// sources: URLs
# from imgproxy's own builder (npm) served at the right size, signatures,
# option errors, ETag/304, response headers, HTTP limits and keep-alive,
# `kinglet sign`.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 1
key=943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881
salt=520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5
root=$T_TMP/root
mkdir -p "$root/sub"
cp ../shared/corpus/jpeg/testorig.jpg ../shared/corpus/pngsuite/basn6a08.png "$root/"
cp ../shared/corpus/jpeg/testorig.jpg "$root/sub/a b.jpg"
ln -s /etc/passwd "$root/link.jpg"
tp=$(free_port); ap=$(free_port)
cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 32M
shutdown_grace = 2s
[admin]
listen = 127.0.0.1:$ap
[thumbs]
listen = 127.0.0.1:$tp
key = $key
salt = $salt
jobs = 2
arena = 8M
local_root = $root
header_timeout = 1s
idle_timeout = 2s
max_header_kb = 4
[preset thumb]
options = rs:fill:300:300/q:80
[preset sharp]
options = q:95
CONF
start_kinglet "$T_TMP/k.conf"
if wait_port "$tp"; then ok "thumbs listens"; else not_ok "thumbs listens"; cat "$T_TMP/kinglet.log"; exit 1; fi
base=http://127.0.0.1:$tp
sign() { "$KINGLET" sign "$1" -c "$T_TMP/k.conf"; }
# get PATH: status into $code, body into $T_TMP/body, headers into $T_TMP/hdr
get() { rm -f "$T_TMP/body"; code=$(curl -s -D "$T_TMP/hdr" -o "$T_TMP/body" -w '%{http_code}' "${@:2}" "$base$1"); }
hdr() { grep -i "^$1:" "$T_TMP/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# --- URLs built by imgproxy's own builder ---
if [ ! -d tests/node/node_modules/@imgproxy/imgproxy-node ]; then
	(cd tests/node && npm ci --silent --no-audit --no-fund) >"$T_TMP/npm.log" 2>&1
fi
if node tests/node/make-serve-urls.mjs "$key" "$salt" local:///testorig.jpg >"$T_TMP/urls" 2>"$T_TMP/node.log"; then
	ok "imgproxy-node built $(wc -l <"$T_TMP/urls") URLs"
else
	not_ok "make-serve-urls.mjs: $(tail -n 3 "$T_TMP/node.log")"
fi
while IFS=$'\t' read -r p want; do
	get "$p"
	case $want in
	*x*) got=$(identify -format '%wx%h' "$T_TMP/body" 2>/dev/null)
	     if [ "$code" = 200 ] && [ "$got" = "$want" ]; then ok "npm URL served $want: ${p:44:60}"
	     else not_ok "npm URL ${p:44:80}: status $code, size $got, want $want: $(head -c 200 "$T_TMP/body")"; fi ;;
	*) if [ "$code" = "$want" ]; then ok "npm URL answers $want: ${p:44:60} $( [ "$code" != 200 ] && head -c 80 "$T_TMP/body")"
	   else not_ok "npm URL ${p:44:80}: status $code, want $want"; fi ;;
	esac
done <"$T_TMP/urls"

# --- signatures ---
p=$(sign /rs:fit:100:100/plain/local:///testorig.jpg)
check "kinglet sign prints a signed path" grep -qE '^/[A-Za-z0-9_-]{43}/rs:fit:100:100/plain/local:///testorig.jpg$' <<<"$p"
get "$p"; check "signed URL is 200" test "$code" = 200
bad=$(sed 's|^/.|/A|' <<<"$p"); [ "$bad" = "$p" ] && bad=$(sed 's|^/.|/B|' <<<"$p")
get "$bad"; check "tampered signature is 403" test "$code" = 403
check "403 body says why" grep -q signature "$T_TMP/body"
get "/insecure/rs:fit:100:100/plain/local:///testorig.jpg"; check "insecure is 403 when a key is set" test "$code" = 403
get "$(sign /rs:fit:100:100/plain/local:///testorig.jpg)?q=ignored"; check "query string is ignored" test "$code" = 200

# --- option errors name the option ---
get "$(sign /rs:fit:10:10/foo:1/plain/local:///testorig.jpg)"
check "unknown option is 404" test "$code" = 404
check "body names it: unknown option: foo:1" grep -qx "unknown option: foo:1" "$T_TMP/body"
get "$(sign /w:abc/plain/local:///testorig.jpg)"
check "malformed option is 404 naming it ($(head -c 60 "$T_TMP/body"))" bash -c '[ "$1" = 404 ] && grep -q "w:abc" "$2"' _ "$code" "$T_TMP/body"
get "$(sign /pr:nope/plain/local:///testorig.jpg)"; check "unknown preset is 404" test "$code" = 404
get "$(sign /w:10/plain/local:///testorig.jpg@webp)"
check "webp is 422 unsupported output format: webp" bash -c '[ "$1" = 422 ] && grep -qx "unsupported output format: webp" "$2"' _ "$code" "$T_TMP/body"
get "/health/x"; check "a path that is no URL is 403/404 ($code)" bash -c '[ "$1" = 403 ] || [ "$1" = 404 ]' _ "$code"

# --- sources under local_root ---
get "$(sign /w:10/plain/local:///nope.jpg)"; check "missing local file is 404" test "$code" = 404
get "$(sign /w:10/plain/local:///../etc/passwd)" --path-as-is; check "'..' cannot escape local_root (404)" test "$code" = 404
get "$(sign /w:10/plain/local:///sub%2F..%2F..%2Fetc%2Fpasswd)"; check "encoded slashes cannot escape (404)" test "$code" = 404
get "$(sign /w:10/plain/local:///link.jpg)"; check "symlinks are not followed (404)" test "$code" = 404
get "$(sign /w:10/plain/local:///sub/a%20b.jpg)"; check "percent-encoded local path is served" test "$code" = 200
get "$(sign /w:10/plain/local:///etc)"; check "a directory is not an image (404)" test "$code" = 404

# --- response headers, ETag, 304 ---
p=$(sign /rs:fit:100:100/plain/local:///testorig.jpg)
get "$p"
check "Content-Type image/jpeg" test "$(hdr Content-Type)" = image/jpeg
check "Content-Length matches the body" test "$(hdr Content-Length)" = "$(stat -c %s "$T_TMP/body")"
check "Cache-Control max-age from ttl" grep -qi '^Cache-Control: max-age=31536000, public' "$T_TMP/hdr"
check "Last-Modified of the file" grep -qi "^Last-Modified: $(date -u -r "$root/testorig.jpg" '+%a, %d %b %Y %H:%M:%S GMT')" "$T_TMP/hdr"
check "Content-Disposition inline with the source's name" grep -qi '^Content-Disposition: inline; filename="testorig.jpg"' "$T_TMP/hdr"
check "no Vary: Accept (format never depends on Accept)" bash -c '! grep -qi "^Vary:" "$1"' _ "$T_TMP/hdr"
e1=$(hdr ETag); get "$p"; e2=$(hdr ETag)
check "same URL twice: same strong ETag $e1" bash -c '[ -n "$1" ] && [ "$1" = "$2" ] && [[ $1 == \"* ]]' _ "$e1" "$e2"
get "$(sign /rs:fit:101:100/plain/local:///testorig.jpg)"; check "another URL: another ETag" test "$(hdr ETag)" != "$e1"
get "$p" -H "If-None-Match: $e1"; check "If-None-Match -> 304" test "$code" = 304
check "304 has no body and keeps the ETag" bash -c '[ ! -s "$1" ] && grep -q "$2" "$3"' _ "$T_TMP/body" "$e1" "$T_TMP/hdr"
get "$p" -H "If-None-Match: \"x\", W/$e1"; check "If-None-Match list with a weak tag -> 304" test "$code" = 304
get "$p" -H 'If-None-Match: "other"'; check "another tag -> 200" test "$code" = 200
get "$(sign /w:50/att:1/fn:my%22pic/f:png/plain/local:///testorig.jpg)"
check "att -> attachment with fn and the output's extension" grep -qi '^Content-Disposition: attachment; filename="my%22pic.png"' "$T_TMP/hdr"
check "f:png -> image/png" test "$(hdr Content-Type)" = image/png
get "$(sign /w:16/plain/local:///basn6a08.png)"; check "png source -> png output" test "$(hdr Content-Type)" = image/png
# (curl -I writes the head where the body would go: no image bytes may follow it)
get "$p" -I; check "HEAD: 200 with Content-Length and no body" bash -c '[ "$1" = 200 ] && ! grep -qa JFIF "$2" && grep -qi "^Content-Length: [1-9]" "$3"' _ "$code" "$T_TMP/body" "$T_TMP/hdr"

# --- HTTP front: health, methods, limits, keep-alive ---
get /health; check "/health is ok" bash -c '[ "$1" = 200 ] && grep -qx ok "$2"' _ "$code" "$T_TMP/body"
get /health -X POST; check "POST is 405" test "$code" = 405
get "/$(head -c 5000 /dev/zero | tr '\0' a)"; check "request line over max_header is 414" test "$code" = 414
get /health -H "X-Big: $(head -c 3000 /dev/zero | tr '\0' b)" -H "X-Big2: $(head -c 3000 /dev/zero | tr '\0' b)"
check "headers over max_header are 431" test "$code" = 431
n=$(curl -s -v "$base/health" "$base/health" "$base$p" -o /dev/null -o /dev/null -o /dev/null 2>&1 | grep -c 'Re-using existing connection')
check "keep-alive: three requests on one connection ($n re-uses)" test "$n" -ge 2
out=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	timeout 5 python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); b=b""
while True:
    d=s.recv(65536)
    if not d: break
    b+=d
print(b.decode())' "$tp")
check "pipelined requests both answered" test "$(grep -c '^HTTP/1.1 200' <<<"$out")" = 2
# header timeout: a client that sends half a head is cut off and holds no job
t0=$(date +%s%N)
timeout 5 python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(b"GET /heal"); print(s.recv(10))' "$tp" >"$T_TMP/slow"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "header_timeout closes a slow client (${ms} ms)" bash -c '[ "$1" -ge 800 ] && [ "$1" -lt 4000 ]' _ "$ms"

# --- metrics and the access log ---
curl -s "http://127.0.0.1:$ap/metrics" >"$T_TMP/metrics"
check "metrics: requests by status" grep -qE '^kinglet_thumbs_requests_total\{status="200"\} [1-9]' "$T_TMP/metrics"
check "metrics: 403 counted" grep -qE '^kinglet_thumbs_requests_total\{status="403"\} [1-9]' "$T_TMP/metrics"
check "metrics: job duration histogram" grep -qE '^kinglet_thumbs_job_seconds_count [1-9]' "$T_TMP/metrics"
check "metrics: queue length" grep -q '^kinglet_thumbs_queue_length 0' "$T_TMP/metrics"
check "metrics: bytes out" grep -qE '^kinglet_thumbs_bytes_total\{dir="out"\} [1-9]' "$T_TMP/metrics"
check "metrics: arena high-water mark" grep -qE '^kinglet_thumbs_arena_peak_bytes [1-9]' "$T_TMP/metrics"
check "metrics: arenas all back in the pool" grep -q '^kinglet_pool_used{pool="thumbs.arena"} 0' "$T_TMP/metrics"
check "access log: one line per request with status, bytes and reason" \
	grep -qE 'info thumbs 127\.0\.0\.1:[0-9]+ GET /[^ ]+/rs:fit:10:10/foo:1/[^ ]* 404 [0-9]+ B [0-9]+ ms: unknown option: foo:1' "$T_TMP/kinglet.log"
stop_pid "$KL_PID"
check "SIGTERM: exit 0" test "$STOP_RC" = 0
t_done
