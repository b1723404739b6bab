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

# make_certs DIR: a throw-away CA (ca.pem) and, signed by it for
# localhost / 127.0.0.1: srv.pem + srv.key (valid), old.pem (expired in
# 2020, same key), wrong.pem + wrong.key (CN/SAN "elsewhere.test"); an
# unrelated CA other.pem; pin.txt (base64 SHA-256 of srv's public key).
# ECDSA P-256 keeps handshakes cheap. Returns non-zero if openssl failed.
make_certs() {
	(
		cd "$1" || exit 1
		exec >/dev/null 2>&1
		set -e
		ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
		ec ca.key
		openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=kl-it-ca
		ec srv.key
		openssl req -new -key srv.key -out srv.csr -subj /CN=localhost
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext
		ec wrong.key
		openssl req -new -key wrong.key -out wrong.csr -subj /CN=elsewhere.test
		printf 'subjectAltName=DNS:elsewhere.test\n' >ext2
		openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out wrong.pem -days 2 -extfile ext2
		mkdir -p newcerts; : >index.txt; echo 01 >serial
		printf '[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nnew_certs_dir=newcerts\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' >ca.cnf
		openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in srv.csr -out old.pem \
			-startdate 20200101000000Z -enddate 20200102000000Z -extfile ext
		ec other.key
		openssl req -x509 -new -key other.key -out other.pem -days 2 -subj /CN=other-ca
		openssl x509 -in srv.pem -pubkey -noout | openssl pkey -pubin -outform der |
			openssl dgst -sha256 -binary | openssl base64 >pin.txt
		openssl x509 -in wrong.pem -pubkey -noout | openssl pkey -pubin -outform der |
			openssl dgst -sha256 -binary | openssl base64 >wrongpin.txt
	)
}
