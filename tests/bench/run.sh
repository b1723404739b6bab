#!/usr/bin/env bash
# run.sh [SECTION...] - `make bench`: every section (thumb, relay, thumbs, ...)
# or the ones named; each writes $BENCH_OUT/<section>.md, all end up in
# $BENCH_OUT/bench.md. Benchmarks, not tests: they report, never assert.
set -u
cd "$(dirname "$0")/../.."
export KINGLET=${KINGLET:-./kinglet} BENCH_OUT=${BENCH_OUT:-build/bench}
mkdir -p "$BENCH_OUT"
sections=("$@")
if [ ${#sections[@]} -eq 0 ]; then
	for f in tests/bench/*.sh; do
		case "$f" in */lib.sh|*/run.sh) continue ;; esac
		sections+=("$(basename "$f" .sh)")
	done
fi
: >"$BENCH_OUT/bench.md"
for s in "${sections[@]}"; do
	echo "== bench: $s" >&2
	bash "tests/bench/$s.sh" >/dev/null || echo "bench $s failed" >&2
	[ -f "$BENCH_OUT/$s.md" ] && { cat "$BENCH_OUT/$s.md"; echo; } >>"$BENCH_OUT/bench.md"
done
python3 tests/bench/plot.py "$BENCH_OUT" "$BENCH_OUT" >&2 || echo "plots not drawn" >&2
cat "$BENCH_OUT/bench.md"
