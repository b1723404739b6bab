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
