#!/bin/sh
# deps.sh build|test - make sure the Debian packages kinglet needs are here.
# As root with apt-get, installs what is missing; otherwise names it and fails.
set -eu
what=${1:-build}

build_pkgs="gcc make pkg-config libc6-dev ca-certificates libjpeg62-turbo-dev libpng-dev zlib1g-dev libmbedtls-dev libc-ares-dev file"
test_pkgs="curl openssl python3 imagemagick libjpeg-turbo-progs clang libclang-rt-14-dev procps util-linux time"
# Installed only when the command is missing: a machine may carry its own
# Node.js, whose npm the Debian package would conflict with.
test_cmds="node:nodejs npm:npm"

bench_pkgs="libvips-tools imagemagick libjpeg-turbo-progs time wrk haproxy microsocks shadowsocks-libev v2ray stunnel4 nginx libnginx-mod-http-image-filter curl python3"

pkgs=$build_pkgs
[ "$what" = test ] && pkgs="$build_pkgs $test_pkgs"
[ "$what" = bench ] && pkgs="$build_pkgs $test_pkgs $bench_pkgs"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if [ "$what" != build ]; then
	for pair in $test_cmds; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
	done
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "deps: missing Debian packages:$missing (install them as root: apt-get install$missing)" >&2
	exit 1
fi
