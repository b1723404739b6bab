#!/usr/bin/env bash
# t_thumbs_load.sh - the thumbs service under work: decompression bombs and
# huge headers refused without RSS moving, /health and admin /metrics
# latency while 4 large thumbnails are in flight (reported, bounded only
# generously), 429 with Retry-After when jobs and queue are full.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 1
root=$T_TMP/root
mkdir -p "$root"
cp ../shared/bench-images/photo-12mp.jpg ../shared/bench-images/photo-12mp.png ../shared/corpus/jpeg/testorig.jpg "$root/"
# A PNG bomb: 16000 x 16000 gray (256 MP) of zeros, about 250 KB compressed.
python3 - "$root/bomb.png" <<'PY'
import struct, sys, zlib
w = h = 16000
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
c = zlib.compressobj(9)
row = b"\0" * (w + 1)
idat = b"".join(c.compress(row) for _ in range(h)) + c.flush()
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                              + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY
# A JPEG whose SOF0 claims 65000 x 65000.
python3 - "$root/testorig.jpg" "$root/sof.jpg" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"\xff\xc0")
b[i + 5:i + 9] = (65000).to_bytes(2, "big") * 2
open(sys.argv[2], "wb").write(b)
PY
tp=$(free_port); ap=$(free_port)
cat >"$T_TMP/k.conf" <<CONF
[global]
memory_limit = 48M
[admin]
listen = 127.0.0.1:$ap
[thumbs]
listen = 127.0.0.1:$tp
jobs = 4
queue = 2
arena = 8M
local_root = $root
CONF
start_kinglet "$T_TMP/k.conf"
if wait_port "$tp" && wait_port "$ap"; then ok "kinglet listens"; else not_ok "start"; cat "$T_TMP/kinglet.log"; exit 1; fi
base=http://127.0.0.1:$tp/insecure
get() { code=$(curl -s -m 60 -o "$T_TMP/body" -w '%{http_code}' "$base$1"); }

# --- bombs: refused from the header, RSS does not move ---
get "/w:100/plain/local:///testorig.jpg"
rss0=$(rss_kb "$KL_PID")
get "/w:100/plain/local:///bomb.png"
check "PNG bomb (16000x16000) is 422: $(head -c 100 "$T_TMP/body")" test "$code" = 422
get "/w:100/plain/local:///sof.jpg"
check "65000x65000 SOF is 422: $(head -c 100 "$T_TMP/body")" test "$code" = 422
for _ in 1 2 3 4 5; do get "/w:100/plain/local:///bomb.png"; get "/w:100/plain/local:///sof.jpg"; done
rss1=$(rss_kb "$KL_PID")
diag "RSS before the bombs $rss0 KB, after 12 of them $rss1 KB"
check "RSS did not move (+$((rss1 - rss0)) KB)" test $((rss1 - rss0)) -lt 512

# --- /health and /metrics while 4 large thumbnails are in flight ---
pids=""
for o in w:800 w:1000/f:jpg w:300 h:400; do
	src=photo-12mp.png; case $o in w:800|h:400) src=photo-12mp.jpg ;; esac
	curl -s -m 120 -o "$T_TMP/big.${o//[:\/]/_}" -w '%{http_code}\n' "$base/$o/plain/local:///$src" >>"$T_TMP/big.codes" &
	pids="$pids $!"
done
sleep 0.2
busy=$(curl -s "http://127.0.0.1:$ap/metrics" | awk '/^kinglet_thumbs_jobs_active / {print $2}')
for _ in $(seq 1 50); do
	curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$tp/health" >>"$T_TMP/health.times"
done
mt=$(curl -s -o "$T_TMP/metrics" -w '%{time_total}' "http://127.0.0.1:$ap/metrics")
busy2=$(awk '/^kinglet_thumbs_jobs_active / {print $2}' "$T_TMP/metrics")
read -r p50 p99 max < <(sort -n "$T_TMP/health.times" | awk '{a[NR]=$1} END {printf "%.1f %.1f %.1f\n", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}')
diag "jobs in flight at the start / end of the 50 /health requests: $busy / $busy2"
diag "/health while busy: p50 $p50 ms, p99 $p99 ms, max $max ms; admin /metrics $(awk -v t="$mt" 'BEGIN {printf "%.1f", t*1000}') ms"
check "large jobs were in flight while /health was measured ($busy of 4)" test "${busy:-0}" -ge 2
check "/health answered within 1 s every time (max $max ms)" awk -v m="$max" 'BEGIN { exit !(m < 1000) }'
check "admin /metrics answered within 1 s while busy" awk -v t="$mt" 'BEGIN { exit !(t < 1) }'
wait $pids
check "the 4 large thumbnails are all 200" test "$(grep -c '^200$' "$T_TMP/big.codes")" -eq 4
check "their sizes are right" test "$(identify -format '%w ' "$T_TMP/big.w_800" "$T_TMP/big.w_1000_f_jpg" 2>/dev/null)" = "800 1000 "

# --- 429 when 4 jobs and 2 queued places are taken ---
rm -f "$T_TMP/codes"
pids=""
for i in 1 2 3 4 5 6 7 8; do
	curl -s -m 120 -D "$T_TMP/h$i" -o /dev/null -w '%{http_code}\n' "$base/w:$((200 + i))/plain/local:///photo-12mp.png" >>"$T_TMP/codes" &
	pids="$pids $!"
done
wait $pids
n200=$(grep -c '^200$' "$T_TMP/codes"); n429=$(grep -c '^429$' "$T_TMP/codes")
diag "8 concurrent large requests: $n200 x 200, $n429 x 429"
check "jobs + queue = 6 served, the rest 429" bash -c '[ "$1" -ge 6 ] && [ "$2" -ge 1 ] && [ $(($1 + $2)) -eq 8 ]' _ "$n200" "$n429"
check "429 carries Retry-After" bash -c 'grep -l "^HTTP/1.1 429" "$@" | xargs grep -qi "^Retry-After: 1"' _ "$T_TMP"/h?
curl -s "http://127.0.0.1:$ap/metrics" >"$T_TMP/metrics"
check "429s are counted" grep -qE '^kinglet_thumbs_requests_total\{status="429"\} [1-9]' "$T_TMP/metrics"
check "every arena is back in the pool" grep -q '^kinglet_pool_used{pool="thumbs.arena"} 0' "$T_TMP/metrics"
check "exactly one thread" test "$(threads_of "$KL_PID")" -eq 1
rss=$(rss_kb "$KL_PID")
diag "RSS after the load: $rss KB (memory_limit 48 MB + 12 MB overhead)"
check "RSS within memory_limit + overhead" test "$rss" -le $(( (48 + 12) * 1024 ))
stop_pid "$KL_PID"; check "SIGTERM: exit 0" test "$STOP_RC" = 0
t_done
