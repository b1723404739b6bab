#!/bin/sh
# cross.sh [--deps] ARCH... - cross builds of kinglet for armhf, arm64 and
# mipsel (or "all") from Debian packages and cross compilers.
# As root on Debian, installs what is missing (the cross gcc, the target's
# -dev packages, qemu-user), then builds with the project's own Makefile:
#   build/cross-ARCH/kinglet          dynamic, against the ARCH libraries
#   build/cross-ARCH-static/kinglet   fully static (the one to copy to a router)
# The target's libraries come from multiarch packages (:ARCH, installed
# beside the build machine's) when apt can co-install them. Multi-Arch:
# same packages must have one version on every architecture, so when the
# archive offers ARCH an older version than the one installed here (no
# security updates for mipsel, a security index that failed to download),
# the same -dev packages are fetched with `apt-get download` and unpacked
# into build/sysroot-ARCH instead, leaving the build machine's packages
# alone. --deps only installs. tests/it/t_cross.sh runs the results under
# qemu-user.
set -eu
cd "$(dirname "$0")/../.."

deps_only=0
if [ "${1:-}" = --deps ]; then deps_only=1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--deps] armhf|arm64|mipsel|all ..." >&2; exit 2; }
[ "$1" = all ] && set -- armhf arm64 mipsel

# triplet ARCH: the GNU triplet Debian uses for ARCH.
triplet() {
	case $1 in
	armhf) echo arm-linux-gnueabihf ;;
	arm64) echo aarch64-linux-gnu ;;
	mipsel) echo mipsel-linux-gnu ;;
	*) echo "cross: unknown ARCH '$1' (armhf, arm64 or mipsel)" >&2; return 1 ;;
	esac
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

# The target libraries kinglet links, -dev and runtime packages.
dev_pkgs="libjpeg62-turbo-dev libpng-dev zlib1g-dev libmbedtls-dev libc-ares-dev"
sysroot_pkgs="$dev_pkgs libjpeg62-turbo libpng16-16 zlib1g libmbedtls14 libmbedx509-1 libmbedcrypto7 libc-ares2"

apt_ready() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "cross: missing Debian packages:$1 (as root: dpkg --add-architecture $2; apt-get update; apt-get install$1)" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
}

# tools ARCH: cross compiler (it brings the target's libc in /usr/TRIPLET)
# and qemu-user, both amd64 packages.
tools() {
	t=$(triplet "$1")
	missing=""
	for p in "gcc-$t" "binutils-$t" "libc6-dev-$1-cross" make file pkgconf qemu-user; do installed "$p" || missing="$missing $p"; done
	[ -z "$missing" ] && return 0
	apt_ready "$missing" "$1"
	echo "cross: installing:$missing" >&2
	apt-get update -qq >/dev/null 2>&1 || true
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# libs ARCH: prints "multiarch" or "sysroot" (where the target's
# libraries are), installing or unpacking them when missing.
libs() {
	t=$(triplet "$1")
	s=build/sysroot-$1
	missing=""
	for p in $dev_pkgs; do installed "$p:$1" || missing="$missing $p:$1"; done
	if [ -z "$missing" ]; then echo multiarch; return 0; fi
	if [ -f "$s/.done" ]; then echo sysroot; return 0; fi
	apt_ready "$missing" "$1"
	if ! dpkg --print-foreign-architectures | grep -qx "$1"; then
		dpkg --add-architecture "$1"
	fi
	# A mirror that is mid-sync fails one index: go on with the others.
	apt-get update -qq >/dev/null 2>&1 || echo "cross: apt-get update reported errors (an index is missing); going on" >&2
	# shellcheck disable=SC2086
	if apt-get install -s --no-install-recommends $missing >"build/apt-$1.log" 2>&1; then
		echo "cross: installing:$missing" >&2
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
		echo multiarch
		return 0
	fi
	echo "cross: the :$1 packages cannot be co-installed with this machine's:" >&2
	grep -E '^ [^ ].*Depends|^E:' "build/apt-$1.log" | sed 's/^/cross:   /' >&2
	echo "cross: unpacking them into $s instead" >&2
	rm -rf "$s" "build/debs-$1"
	mkdir -p "$s" "build/debs-$1"
	# shellcheck disable=SC2046
	(cd "build/debs-$1" && apt-get download -qq -o APT::Sandbox::User=root $(for p in $sysroot_pkgs; do echo "$p:$1"; done)) >&2
	for d in "build/debs-$1"/*.deb; do dpkg-deb -x "$d" "$s"; done
	# Absolute links (libz.so -> /lib/TRIPLET/...) must stay inside.
	find "$s" -type l | while read -r l; do
		case $(readlink "$l") in /*) ln -sf "$(pwd)/$s$(readlink "$l")" "$l" ;; esac
	done
	: >"$s/.done"
	echo sysroot
}

# build ARCH WHERE: dynamic and static binaries with the Makefile's
# variables; pkg-config reads only the target's .pc files.
build() {
	t=$(triplet "$1")
	if [ "$2" = sysroot ]; then
		s=$(pwd)/build/sysroot-$1
		PKG_CONFIG_LIBDIR=$s/usr/lib/$t/pkgconfig:$s/usr/share/pkgconfig
		PKG_CONFIG_SYSROOT_DIR=$s
		cppflags="-I$s/usr/include -I$s/usr/include/$t"
		ldflags="-L$s/usr/lib/$t -L$s/lib/$t -Wl,-rpath-link,$s/usr/lib/$t:$s/lib/$t"
	else
		PKG_CONFIG_LIBDIR=/usr/lib/$t/pkgconfig:/usr/share/pkgconfig
		PKG_CONFIG_SYSROOT_DIR=/
		cppflags="" ldflags=""
	fi
	export PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
	j=-j$(nproc 2>/dev/null || echo 2)
	make --no-print-directory "$j" VARIANT="cross-$1" CC="$t-gcc" AR="$t-ar" \
		PKG_CONFIG=pkg-config CPPFLAGS="$cppflags" LDFLAGS="$ldflags" "build/cross-$1/kinglet"
	make --no-print-directory "$j" STATIC=1 VARIANT="cross-$1-static" CC="$t-gcc" AR="$t-ar" \
		PKG_CONFIG=pkg-config CPPFLAGS="$cppflags" LDFLAGS="$ldflags" "build/cross-$1-static/kinglet"
	unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
	for v in "cross-$1" "cross-$1-static"; do
		"$t-strip" -o "build/$v/kinglet.stripped" "build/$v/kinglet"
		file "build/$v/kinglet" | sed 's/, BuildID[^,]*//'
		echo "size build/$v/kinglet: $(wc -c <"build/$v/kinglet") bytes, stripped $(wc -c <"build/$v/kinglet.stripped") bytes ($2 libraries)"
	done
}

mkdir -p build
for a in "$@"; do
	triplet "$a" >/dev/null
	tools "$a"
	where=$(libs "$a")
	[ "$deps_only" = 1 ] || build "$a" "$where"
done
