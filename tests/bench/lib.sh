# lib.sh - timing helpers for `make bench`: whole-process runs measured with
# /usr/bin/time, medians over RUNS repetitions (these machines are noisy).

: "${RUNS:=7}"
BENCH_OUT=${BENCH_OUT:-build/bench}
mkdir -p "$BENCH_OUT"

# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure CMD...: runs it RUNS times; sets M_WALL (ms), M_CPU (ms user+sys), M_RSS (KB peak), M_OK
measure() {
	local f i
	f=$(mktemp)
	M_OK=1
	# bash's time gives millisecond wall and CPU figures (GNU time rounds
	# to 10 ms); GNU time gives the peak RSS.
	local TIMEFORMAT='%3R %3U %3S' rc
	for i in $(seq 1 "$RUNS"); do
		{ time /usr/bin/time -f '%M' -o "$f.t" "$@" >/dev/null 2>"$f.err"; } 2>"$f.tm"
		rc=$?
		if [ "$rc" -ne 0 ] || ! [ -s "$f.t" ]; then
			M_OK=0
			sed 's/^/# /' "$f.err" | tail -3 >&2
		fi
		echo "$(tail -n 1 "$f.tm") $(tail -n 1 "$f.t")" >>"$f"
	done
	M_WALL=$(awk '{print $1*1000}' "$f" | median)
	M_CPU=$(awk '{print ($2+$3)*1000}' "$f" | median)
	M_RSS=$(awk '{print $4}' "$f" | median)
	rm -f "$f" "$f.t" "$f.err" "$f.tm"
}

# ratio A B -> "1.23x" (A / B)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# bench_procs NAME: a temp folder in $tmp and the helpers every section
# uses to run servers: bg (start, remember the PID), stop_pid, free_port,
# wait_port. Everything started is stopped by PID on exit, also on error.
bench_procs() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	STARTED=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}
stop_pid() { # PID: TERM, up to 5 s, then KILL
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
bench_cleanup() {
	local p
	touch "$tmp/stop"       # ends any sampler loop of the section
	for p in $STARTED; do stop_pid "$p"; done
	rm -rf "$tmp"
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_port() { # PORT: up to 10 s for something to accept there
	for _ in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
bg() { # LOG CMD...: start in the background, remember the PID in BG_PID
	local log=$1; shift
	"$@" >>"$log" 2>&1 &
	BG_PID=$!
	STARTED="$STARTED $BG_PID"
}
