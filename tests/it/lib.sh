# lib.sh - helpers for integration tests: TAP output, free ports, starting
# and stopping the real binary (only processes we started, by PID).
# Sourced by tests/it/t_*.sh, which run from the repository root.

: "${KINGLET:=./kinglet}"
T_N=0
T_FAIL=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kl-it.XXXXXX")
T_PIDS=""

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
# check "what" command...: ok when the command succeeds
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
diag() { echo "# $*"; }

t_cleanup() {
	local p
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null && { for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -9 "$p" 2>/dev/null; }
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

t_done() { echo "1..$T_N"; [ "$T_FAIL" -eq 0 ]; }

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [HOST]: up to 5 s for something to accept there.
wait_port() {
	local host=${2:-127.0.0.1}
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/$host/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# start_kinglet CONF [extra args]: sets KL_PID; stderr goes to $T_TMP/kinglet.log
start_kinglet() {
	local conf=$1; shift
	"$KINGLET" -c "$conf" "$@" 2>>"$T_TMP/kinglet.log" &
	KL_PID=$!
	T_PIDS="$T_PIDS $KL_PID"
}

# stop_pid PID: SIGTERM, wait up to 10 s; the exit status lands in STOP_RC.
# (Not a $(...) substitution: only this shell can wait for its own child.)
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	STOP_RC=$?
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
threads_of() { ls "/proc/$1/task" | wc -l; }

# stop_kinglet: SIGTERM to $KL_PID (our child, so wait works here and not
# in a subshell) and sets KL_RC to its exit status.
stop_kinglet() {
	kill -TERM "$KL_PID" 2>/dev/null
	wait "$KL_PID" 2>/dev/null
	KL_RC=$?
}
