#!/usr/bin/env bash
# run.sh - runs every unit test binary and every integration script, reads
# their TAP lines and ends with one line: "N passed, N failed".
# Environment: KINGLET (binary under test), UNIT_DIR (unit test binaries),
# ONLY (optional substring filter on test names).
set -u
cd "$(dirname "$0")/.."
: "${KINGLET:=./kinglet}" "${UNIT_DIR:=build/rel/tests}"
export KINGLET UNIT_DIR
KINGLET=$(realpath "$KINGLET")
passed=0 failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

count() { # name, file with TAP output, exit status
	local name=$1 out=$2 rc=$3 p f
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# died before reporting a failure (crash, sanitizer, timeout)
		f=1
		echo "not ok - $name exited with status $rc" >>"$out"
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name ran no check" >>"$out"
	fi
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed)"
		grep -v '^ok ' "$out" | tail -n 40 | sed 's/^/    /'
	else
		echo "ok   $name ($p checks)"
	fi
}

for t in "$UNIT_DIR"/t_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	name=unit/$(basename "$t")
	[ -n "${ONLY:-}" ] && [[ $name != *$ONLY* ]] && continue
	timeout 600 "$t" >"$log/out" 2>&1
	count "$name" "$log/out" $?
done

for t in "${FUZZ_DIR:-build/rel/fuzz}"/replay_*; do
	[ -x "$t" ] || continue
	n=${t##*/replay_}
	name=fuzz/$n
	[ -n "${ONLY:-}" ] && [[ $name != *$ONLY* ]] && continue
	timeout 600 "$t" "tests/fuzz/corpus/$n" "tests/fuzz/regress/$n" >"$log/out" 2>&1
	count "$name" "$log/out" $?
done

for t in tests/it/t_*.sh; do
	[ -f "$t" ] || continue
	name=it/$(basename "$t" .sh)
	[ -n "${ONLY:-}" ] && [[ $name != *$ONLY* ]] && continue
	timeout 900 bash "$t" >"$log/out" 2>&1
	count "$name" "$log/out" $?
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
