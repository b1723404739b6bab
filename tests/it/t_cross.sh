#!/usr/bin/env bash
# t_cross.sh - the cross-built binaries (build/cross-ARCH/kinglet and
# build/cross-ARCH-static/kinglet, made by `make cross`) run under
# qemu-user: --version, --plan, a thumbnail the host reads back, and a
# short run with /health and SIGTERM. Skips when none were built, so
# `make test` installs no cross toolchain.
. "$(dirname "$0")/lib.sh"

C=../shared/corpus

bins=()
for b in build/cross-*/kinglet; do
	[ -f "$b" ] && bins+=("$b")
done
if [ ${#bins[@]} -eq 0 ]; then
	diag "skipped: no build/cross-*/kinglet"
	ok "cross builds not present (make cross to build them)"
	t_done
	exit
fi

# arch_of VARIANT: armhf, arm64 or mipsel from cross-ARCH[-static].
arch_of() { local a=${1#cross-}; echo "${a%-static}"; }

for bin in "${bins[@]}"; do
	v=$(basename "$(dirname "$bin")")
	arch=$(arch_of "$v")
	case $arch in
	armhf) t=arm-linux-gnueabihf q=qemu-arm m='ARM, EABI5' ;;
	arm64) t=aarch64-linux-gnu q=qemu-aarch64 m='ARM aarch64' ;;
	mipsel) t=mipsel-linux-gnu q=qemu-mipsel m='MIPS, MIPS32' ;;
	*) not_ok "$v: unknown architecture '$arch'"; continue ;;
	esac
	if ! command -v "$q" >/dev/null 2>&1; then
		not_ok "$v: $q not installed (make cross installs qemu-user)"
		continue
	fi
	# qemu finds the target's dynamic loader and libc under -L; the other
	# libraries are the multiarch :ARCH packages' (/usr/lib/TRIPLET) or,
	# when cross.sh could not co-install them, its build/sysroot-ARCH.
	libpath=/usr/lib/$t:/lib/$t
	sr=$PWD/build/sysroot-$arch
	[ -f "$sr/.done" ] && libpath=$sr/usr/lib/$t:$sr/lib/$t:$libpath
	qemu=("$q" -L "/usr/$t" -E "LD_LIBRARY_PATH=$libpath")
	run() { "${qemu[@]}" "$bin" "$@"; }
	kind=dynamic
	case $v in *-static) kind=static ;; esac

	desc=$(file -b "$bin")
	check "$v: an ELF for $arch ($m)" grep -q "$m" <<<"$desc"
	if [ "$kind" = static ]; then
		check "$v: statically linked" grep -qE 'statically linked|static-pie linked' <<<"$desc"
	else
		check "$v: dynamically linked" grep -q 'dynamically linked' <<<"$desc"
	fi
	diag "$v: $(wc -c <"$bin") bytes"

	out=$(run --version 2>&1)
	check "$v: --version under $q" grep -q '^kinglet [0-9]' <<<"$out"
	diag "$out"

	run -c configs/kinglet.conf --plan >"$T_TMP/plan" 2>&1; rc=$?
	check "$v: --plan -c configs/kinglet.conf fits" bash -c '[ "$1" -eq 0 ] && grep -qE "^  total .* of 32 MB" "$2"' _ "$rc" "$T_TMP/plan"

	if [ -f "$C/jpeg/testorig.jpg" ]; then
		rm -f "$T_TMP/thumb.jpg" "$T_TMP/thumb.png"
		run thumb "$C/jpeg/testorig.jpg" "$T_TMP/thumb.jpg" --fit 300x300 2>"$T_TMP/thumb.err"
		dims=$(identify -format '%m %wx%h' "$T_TMP/thumb.jpg" 2>&1)
		check "$v: thumb testorig.jpg --fit 300x300 gives a 227x149 JPEG ($dims)" test "$dims" = "JPEG 227x149"
		run thumb "$C/jpeg/testorig.jpg" "$T_TMP/thumb.png" --fit 100x100 --format png 2>>"$T_TMP/thumb.err"
		dims=$(identify -format '%m %wx%h' "$T_TMP/thumb.png" 2>&1)
		check "$v: thumb --fit 100x100 --format png gives a 100x66 PNG ($dims)" test "$dims" = "PNG 100x66"
	else
		diag "skipped: $C/jpeg/testorig.jpg not found"
	fi

	ap=$(free_port)
	cat >"$T_TMP/run.conf" <<CONF
[global]
memory_limit = 16M
shutdown_grace = 2s
[admin]
listen = 127.0.0.1:$ap
CONF
	: >"$T_TMP/kinglet.log"
	# qemu itself is our child (not a function's subshell): SIGTERM reaches
	# it, and it hands the signal to kinglet.
	"${qemu[@]}" "$bin" -c "$T_TMP/run.conf" 2>>"$T_TMP/kinglet.log" &
	KL_PID=$!
	T_PIDS="$T_PIDS $KL_PID"
	if wait_port "$ap"; then ok "$v: starts under $q and listens on the admin port"; else not_ok "$v: starts under $q"; sed 's/^/# /' "$T_TMP/kinglet.log"; fi
	check "$v: /health answers ok" bash -c 'curl -fsS -m 5 "http://127.0.0.1:$1/health" | grep -qx ok' _ "$ap"
	check "$v: /metrics answers" bash -c 'curl -fsS -m 5 "http://127.0.0.1:$1/metrics" | grep -q "^kinglet_"' _ "$ap"
	stop_pid "$KL_PID"
	check "$v: SIGTERM exits 0 (status $STOP_RC)" test "$STOP_RC" -eq 0
done

t_done
