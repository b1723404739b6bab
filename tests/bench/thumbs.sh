#!/usr/bin/env bash
# thumbs.sh - the thumbs HTTP server beside nginx image_filter and a
# one-process sharp server, in the same run: thumbnails per second, wrk's
# p50/p99 latency and the server's peak RSS for one fixed URL (fit 300x300)
# on photo-12mp.jpg and photo-2mp-rgba.png, under wrk -c4 and -c32.
# Each (server, image, connections) gets a fresh server, so VmHWM is that
# load's peak. Writes $BENCH_OUT/thumbs.md. Not a test: nothing asserts.
# Knobs: THUMBS_SECONDS (10) per wrk run, THUMBS_CONNS ("4 32").
set -u
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
: "${KINGLET:=./kinglet}"
SECS=${THUMBS_SECONDS:-10}
CONNS=${THUMBS_CONNS:-4 32}
IMG=$(cd ../shared/bench-images && pwd)
FILES="photo-12mp.jpg photo-2mp-rgba.png"
bench_procs kl-bench-thumbs
status_kb() { # FIELD PID...: sum of /proc/PID/status FIELD (VmRSS, VmHWM)
	local f=$1 p v s=0; shift
	for p in "$@"; do
		v=$(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
sampler() { # OUT PID...: max of summed VmRSS every 0.1 s until $tmp/stop
	local out=$1 max=0 s; shift
	while [ ! -e "$tmp/stop" ]; do
		s=$(status_kb VmRSS "$@")
		[ "$s" -gt "$max" ] && max=$s
		sleep 0.1
	done
	echo "$max" >"$out"
}

# A copy, so that a rebuild of $KINGLET during the run does not change it.
K_BIN=$tmp/kinglet
[ -x "$KINGLET" ] && cp "$KINGLET" "$K_BIN" || K_BIN=""

have_sharp=0
if [ -d tests/bench/node_modules/sharp ] || (cd tests/bench && npm install --silent --no-audit --no-fund >/dev/null 2>&1); then
	have_sharp=1
fi
NGX_MOD=""
for m in /usr/lib/nginx/modules/ngx_http_image_filter_module.so /usr/lib64/nginx/modules/ngx_http_image_filter_module.so; do
	[ -f "$m" ] && NGX_MOD=$m && break
done

# start_NAME FILE: sets S_PIDS (summed), S_STOP, S_URL, or S_ERR
start_kinglet() {
	local p; p=$(free_port)
	[ -n "$K_BIN" ] || { S_ERR="no binary at $KINGLET"; return 1; }
	cat >"$tmp/k.conf" <<-CONF
	[global]
	memory_limit = 64M
	log_level = warn
	[thumbs]
	listen = 127.0.0.1:$p
	jobs = 2
	queue = 64
	max_conns = 64
	local_root = $IMG
	allow_private_sources = yes
	CONF
	if ! "$K_BIN" --plan -c "$tmp/k.conf" >"$tmp/plan.out" 2>&1; then
		S_ERR="--plan refused the config: $(grep -v '^ ' "$tmp/plan.out" | head -n 1)"
		return 1
	fi
	if ! grep -q 'thumbs\.' "$tmp/plan.out"; then
		S_ERR="this build has no thumbs server: --plan shows no thumbs pool"
		return 1
	fi
	bg "$tmp/kinglet.log" "$K_BIN" -c "$tmp/k.conf"
	S_PIDS=$BG_PID S_STOP=$BG_PID
	S_URL="http://127.0.0.1:$p/insecure/rs:fit:300:300/plain/local:///$1"
	if ! wait_port "$p"; then
		if kill -0 "$BG_PID" 2>/dev/null; then
			S_ERR="it runs but nothing listens on 127.0.0.1:$p: this build does not serve [thumbs] yet"
		else
			S_ERR="exited: $(tail -n 1 "$tmp/kinglet.log")"
		fi
		return 1
	fi
}
start_nginx() {
	local p w pre=$tmp/nginx; p=$(free_port)
	command -v nginx >/dev/null || { S_ERR="nginx not installed"; return 1; }
	[ -n "$NGX_MOD" ] || { S_ERR="no image_filter module (libnginx-mod-http-image-filter)"; return 1; }
	rm -rf "$pre"; mkdir -p "$pre/logs" "$pre/tmp"
	cat >"$pre/nginx.conf" <<-CONF
	load_module $NGX_MOD;
	worker_processes 1;
	daemon off;
	pid $pre/nginx.pid;
	error_log $pre/logs/error.log warn;
	events { worker_connections 256; }
	http {
	    access_log off;
	    client_body_temp_path $pre/tmp/body;
	    proxy_temp_path $pre/tmp/proxy;
	    fastcgi_temp_path $pre/tmp/fastcgi;
	    uwsgi_temp_path $pre/tmp/uwsgi;
	    scgi_temp_path $pre/tmp/scgi;
	    server {
	        listen 127.0.0.1:$p;
	        location /thumb/ {
	            alias $IMG/;
	            image_filter resize 300 300;
	            image_filter_buffer 20M;
	            image_filter_jpeg_quality 80;
	        }
	    }
	}
	CONF
	bg "$tmp/nginx.log" nginx -p "$pre" -c "$pre/nginx.conf" -e "$pre/logs/error.log"
	S_STOP=$BG_PID
	S_URL="http://127.0.0.1:$p/thumb/$1"
	wait_port "$p" || { S_ERR="did not listen: $(tail -n 1 "$pre/logs/error.log")"; return 1; }
	for _ in $(seq 1 50); do w=$(pgrep -P "$BG_PID" | tr '\n' ' '); [ -n "$w" ] && break; sleep 0.1; done
	S_PIDS="$BG_PID $w"
}
start_sharp() {
	local p; p=$(free_port)
	[ "$have_sharp" = 1 ] || { S_ERR="sharp not installed (npm install in tests/bench)"; return 1; }
	bg "$tmp/sharp.log" node tests/bench/sharp-server.js "$p" "$IMG"
	S_PIDS=$BG_PID S_STOP=$BG_PID S_URL="http://127.0.0.1:$p/$1"
	wait_port "$p" || { S_ERR="did not listen: $(tail -n 1 "$tmp/sharp.log")"; return 1; }
}

to_ms() { # wrk's "98.12ms" / "1.02s" / "850.00us" -> ms
	awk -v x="$1" 'BEGIN { v = x + 0; if (x ~ /us$/) v /= 1000; else if (x ~ /ms$/) ; else if (x ~ /m$/) v *= 60000; else if (x ~ /s$/) v *= 1000; printf "%.1f", v }'
}

# load FILE CONNS: wrk against S_URL with RSS sampling; sets W_RPS W_P50 W_P99 W_ERR W_HWM W_MAX W_IDLE
load() {
	local code w
	code=$(curl -s -o "$tmp/first" -w '%{http_code} %{content_type}' --max-time 30 "$S_URL")
	case "$code" in
	"200 image/"*) ;;
	*) S_ERR="first request: HTTP $code $(head -c 120 "$tmp/first" | tr -d '\r\n')"; return 1 ;;
	esac
	W_IDLE=$(status_kb VmRSS $S_PIDS)
	rm -f "$tmp/stop" "$tmp/rss.max"
	sampler "$tmp/rss.max" $S_PIDS &
	local sp=$!
	STARTED="$STARTED $sp"
	timeout $((SECS + 60)) wrk -t2 -c"$2" -d"${SECS}s" --timeout 30s --latency "$S_URL" >"$tmp/wrk.out" 2>&1
	W_HWM=$(status_kb VmHWM $S_PIDS)
	touch "$tmp/stop"
	wait "$sp" 2>/dev/null
	W_MAX=$(cat "$tmp/rss.max" 2>/dev/null || echo 0)
	W_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
	W_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")")
	W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")")
	W_ERR=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$tmp/wrk.out")
	[ -n "$W_RPS" ] || { S_ERR="wrk: $(tail -n 1 "$tmp/wrk.out")"; return 1; }
}

out=$BENCH_OUT/thumbs.md
{
echo "### Thumbs server: fit 300x300, one fixed URL, wrk -t2 -d${SECS}s"
echo
echo "kinglet: jobs = 2, queue = 64 (no 429 at 32 connections), local:/// source. nginx: image_filter, worker_processes 1 (RSS: master + worker). sharp: one Node.js process, sharp.concurrency(1), one libuv worker thread. Output format follows the source (JPEG q80, PNG). Peak RSS is the sum of VmHWM of the server's processes after the load; max RSS is the largest summed VmRSS sampled every 0.1 s during it. Ratios: the other server's figure over kinglet's."
echo
echo "| source | server | wrk -c | thumbs/s | p50 ms | p99 ms | errors | idle RSS MB | peak RSS MB | max RSS in load MB | thumbs/s vs kinglet | peak RSS vs kinglet |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

for f in $FILES; do
	[ -f "$IMG/$f" ] || continue
	for c in $CONNS; do
		K_RPS=0 K_HWM=0
		for srv in kinglet nginx sharp; do
			case "$srv" in
			kinglet) name="kinglet thumbs" ;;
			nginx) name="nginx image_filter" ;;
			sharp) name="sharp (Node.js)" ;;
			esac
			echo "== thumbs: $f -c$c $srv" >&2
			S_ERR="" S_PIDS="" S_STOP="" S_URL=""
			if "start_$srv" "$f" && load "$f" "$c"; then
				[ "$srv" = kinglet ] && K_RPS=$W_RPS K_HWM=$W_HWM
				printf '| %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$f" "$name" "$c" "$W_RPS" \
					"$W_P50" "$W_P99" "$W_ERR" "$(mib "$W_IDLE")" "$(mib "$W_HWM")" "$(mib "$W_MAX")" \
					"$(ratio "$W_RPS" "$K_RPS")" "$(ratio "$W_HWM" "$K_HWM")" >>"$out"
			else
				case "$srv" in
				kinglet) echo "| $f | $name | $c | kinglet: not available ($S_ERR) | | | | | | | | |" >>"$out" ;;
				*) echo "| $f | $name | $c | failed ($S_ERR) | | | | | | | | |" >>"$out" ;;
				esac
			fi
			for p in $S_STOP; do stop_pid "$p"; done
		done
	done
done

kv="not available"
[ -n "$K_BIN" ] && kv=$("$K_BIN" --version 2>/dev/null | cut -d' ' -f2)
sv=$(cd tests/bench && node -p "require('sharp/package.json').version" 2>/dev/null)
{
echo
echo "kinglet $kv ($KINGLET), nginx $(nginx -v 2>&1 | sed 's,.*/,,'), sharp ${sv:-not installed}; wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}'); $(nproc) cores, $(date -u +%Y-%m-%d)."
} >>"$out"
cat "$out"
