#!/usr/bin/env bash
# t_packaging.sh - the platform packaging: the OpenWrt UCI converter (run
# here with tests/it/uci_stub.sh standing in for OpenWrt's shell library)
# produces files kinglet accepts, the init script and converter parse as
# POSIX sh, the Makefile takes the build variables OpenWrt passes, and the
# systemd unit carries its limits and sandboxing.
. tests/it/lib.sh

OW=port/openwrt
UNIT=port/systemd/kinglet.service
CONV=$OW/files/kinglet-uci2conf
export UCI_FUNCTIONS=$PWD/tests/it/uci_stub.sh UCI_CONFIG_DIR=$T_TMP/uci
mkdir -p "$UCI_CONFIG_DIR"

# conv PACKAGE: the converter under POSIX sh; output in $T_TMP/PACKAGE.conf
conv() { sh "$CONV" "$1" >"$T_TMP/$1.conf" 2>"$T_TMP/$1.err"; }
kl_accepts() { # FILE: --check-config and --plan both succeed
	"$KINGLET" -c "$1" --check-config >"$T_TMP/check.out" 2>&1 &&
		"$KINGLET" -c "$1" --plan >"$T_TMP/plan.out" 2>&1 ||
		{ diag "kinglet refused $1:"; sed 's/^/#   /' "$T_TMP/check.out" "$T_TMP/plan.out" 2>/dev/null; return 1; }
}

# --- shell syntax
for f in "$CONV" "$OW/files/kinglet.init" tests/it/uci_stub.sh; do
	check "sh -n $f" sh -n "$f"
done
if command -v shellcheck >/dev/null; then
	check "shellcheck converter, init script and stub" \
		shellcheck -s sh "$CONV" "$OW/files/kinglet.init" tests/it/uci_stub.sh
else
	diag "shellcheck not installed: skipped"
fi

# --- the shipped UCI config
cp "$OW/files/kinglet.config" "$UCI_CONFIG_DIR/kinglet"
check "shipped UCI config converts" conv kinglet
check "shipped config: kinglet accepts it" kl_accepts "$T_TMP/kinglet.conf"
check "shipped config: thumbs and disabled relays left out" \
	eval '! grep -qE "^\[(thumbs|relay web|relay ssh)\]" "$T_TMP/kinglet.conf"'
check "shipped config: [relay lan] on the LAN address" \
	grep -qx 'listen = "192.168.1.1:1080"' "$T_TMP/kinglet.conf"

# --- every kind of section, lists, quoting, names, anonymous sections
cat >"$UCI_CONFIG_DIR/sample" <<'UCI'
# a sample with every section type
package sample

config global 'global'
	option memory_limit '48M'
	option log_level "debug"
	option shutdown_grace 3s
	option dns_cache '16'

config admin
	option listen '127.0.0.1:18081'

config relay 'socks'
	option type 'socks5'
	option listen '127.0.0.1:11080'
	option buffer_kb '4'
	option max_conns '32'
	list allow_clients '127.0.0.0/8'
	list allow_clients '::1'
	list users 'alice:pa;ss#1'
	list users 'bob:it'\''s'
	list deny_destinations '.example.com'
	option open '0'

config relay
	option name 'tunnel.ssh'
	option type 'forward'
	option listen '127.0.0.1:12222'
	option target '10.0.0.5:22'
	option allow_destinations '10.0.0.5 10.0.0.6'
	option idle '2m'

config relay 'off'
	option enabled '0'
	option type 'bogus'

config relay 'chain'
	option type 'http'
	option listen '127.0.0.1:13128'
	option upstream 'vps.example.com:8443'
	option upstream_tls '1'
	option upstream_user 'router'
	option upstream_pass 'x y;z'
	option tls_sessions '8'
	option max_conns '8'

config thumbs 'thumbs'
	option enabled '1'
	option listen '127.0.0.1:18080'
	option jobs '1'
	option arena '4M'
	option local_root 'configs/demo'
	list allowed_sources 'local:///'
	option key '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881'
	option salt '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5'

config preset 'small'
	option options 'rs:fit:100:100/q:70'
UCI
cat >"$T_TMP/sample.want" <<'INI'
[global]
memory_limit = "48M"
log_level = "debug"
shutdown_grace = "3s"
dns_cache = "16"

[admin]
listen = "127.0.0.1:18081"

[relay socks]
type = "socks5"
listen = "127.0.0.1:11080"
buffer_kb = "4"
max_conns = "32"
allow_clients = "127.0.0.0/8 ::1"
deny_destinations = ".example.com"
users = "alice:pa;ss#1 bob:it's"
open = "0"

[relay tunnel.ssh]
type = "forward"
listen = "127.0.0.1:12222"
target = "10.0.0.5:22"
allow_destinations = "10.0.0.5 10.0.0.6"
idle = "2m"

[relay chain]
type = "http"
listen = "127.0.0.1:13128"
max_conns = "8"
upstream = "vps.example.com:8443"
upstream_tls = "1"
upstream_user = "router"
upstream_pass = "x y;z"
tls_sessions = "8"

[thumbs]
listen = "127.0.0.1:18080"
key = "943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881"
salt = "520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5"
jobs = "1"
arena = "4M"
local_root = "configs/demo"
allowed_sources = "local:///"

[preset small]
options = "rs:fit:100:100/q:70"
INI
check "sample UCI config converts" conv sample
check "sample: keys mapped one to one, in order, disabled relay left out" \
	diff -u "$T_TMP/sample.want" <(grep -v '^;' "$T_TMP/sample.conf" | sed '1{/^$/d}' | sed '${/^$/d}')
check "sample: kinglet accepts it (--check-config, --plan)" kl_accepts "$T_TMP/sample.conf"
check "sample: the plan has the relays and thumbs" \
	grep -q 'relay.tunnel.ssh' "$T_TMP/plan.out"
# the README's signed example, with the same key and salt
check "sample: key and salt carried over (kinglet sign)" eval '
	[ "$("$KINGLET" sign /rs:fit:300:300/plain/local:///demo.jpg -c "$T_TMP/sample.conf")" = \
		/eQ669sZoA0Pde_jePQuvZpSRXI3cKNsCIjqz21KgQ4o/rs:fit:300:300/plain/local:///demo.jpg ]'

# --- what the converter refuses
refused() { # PACKAGE MESSAGE-PATTERN: conversion fails and says why
	! conv "$1" && grep -q -- "$2" "$T_TMP/$1.err" ||
		{ diag "stderr:"; sed 's/^/#   /' "$T_TMP/$1.err"; return 1; }
}
printf "config relay 'r'\n\toption type 'socks5'\n\toption bufer_kb '8'\n" >"$UCI_CONFIG_DIR/typo"
check "an unknown option is an error" refused typo "unknown option 'bufer_kb'"
printf "config relays 'r'\n\toption type 'socks5'\n" >"$UCI_CONFIG_DIR/badtype"
check "an unknown section type is an error" refused badtype "unknown section type 'relays'"
printf "config relay 'r'\n\toption type 'socks5'\n\toption listen '127.0.0.1:1'\n\toption upstream_pass 'a\"b'\n" \
	>"$UCI_CONFIG_DIR/quote"
check "a double quote in a value is an error" refused quote "cannot hold a double quote"
printf "config relay 'r'\n\toption name 'a b'\n\toption type 'socks5'\n" >"$UCI_CONFIG_DIR/badname"
check "a relay name kinglet would refuse is an error" refused badname "bad name 'a b'"
printf "config relay 'r'\n\tlist type 'socks5'\n" >"$UCI_CONFIG_DIR/listtype"
check "a list for a single-valued key is an error" refused listtype "'type' takes one value"
check "a missing UCI config is an error" refused nosuch "cannot load"

# --- the OpenWrt package Makefile
mk=$OW/Makefile
check "package Makefile: name, version from VERSION, dependencies" \
	eval 'grep -q "^PKG_NAME:=kinglet$" $mk &&
		grep -q "^PKG_VERSION:=$(cat VERSION)$" $mk &&
		grep -q "^  DEPENDS:=+libjpeg-turbo +libpng +zlib +libmbedtls +libcares$" $mk'
check "package Makefile: no Build/Compile override" eval '! grep -q "define Build/Compile" $mk'
check "package Makefile installs binary, converter, init script, UCI config" \
	eval 'grep -q "/usr/bin/kinglet$" $mk && grep -q "kinglet-uci2conf \$(1)/usr/libexec/" $mk &&
		grep -q "kinglet.init \$(1)/etc/init.d/kinglet$" $mk &&
		grep -q "kinglet.config \$(1)/etc/config/kinglet$" $mk'
check "init script: procd, converter, command, respawn, logd, trigger" \
	eval 'f=$OW/files/kinglet.init; grep -q "^USE_PROCD=1" $f &&
		grep -q "procd_set_param command \"\$PROG\" -c \"\$CONF\"" $f &&
		grep -q "^CONF=/var/etc/kinglet.conf" $f && grep -q "^PROG=/usr/bin/kinglet" $f &&
		grep -q "procd_set_param respawn" $f && grep -q "procd_set_param stderr 1" $f &&
		grep -q "procd_add_reload_trigger \"kinglet\"" $f'

# The project Makefile takes the variables OpenWrt's default build passes:
# every compile uses CC and CFLAGS and CPPFLAGS, the link LDFLAGS, the
# libraries come from PKG_CONFIG, and nothing asks uname.
mkdir -p "$T_TMP/bin"
printf '#!/bin/sh\necho "$*" >>"%s/pc.log"\nexec pkg-config "$@"\n' "$T_TMP" >"$T_TMP/bin/xpkg-config"
chmod +x "$T_TMP/bin/xpkg-config"
make -n -B VARIANT=pkgtest CC=x-target-cc CFLAGS=-Dkl_cflags CPPFLAGS=-Dkl_cppflags \
	LDFLAGS=-Wl,--kl-ldflags AR=x-target-ar PKG_CONFIG="$T_TMP/bin/xpkg-config" \
	build/pkgtest/kinglet >"$T_TMP/make.out" 2>&1
cc_lines=$(grep -c ' -c -o build/pkgtest/' "$T_TMP/make.out")
check "Makefile: every compile uses CC, CFLAGS and CPPFLAGS ($cc_lines)" \
	eval '[ "$cc_lines" -gt 10 ] && ! grep " -c -o build/pkgtest/" "$T_TMP/make.out" |
		grep -v "^x-target-cc .*-Dkl_cppflags -Dkl_cflags"'
check "Makefile: the link uses CC and LDFLAGS, the archive AR" \
	eval 'grep -q "^x-target-cc -Wl,--kl-ldflags .*-o build/pkgtest/kinglet " "$T_TMP/make.out" &&
		grep -q "^x-target-ar rcs build/pkgtest/libkl.a" "$T_TMP/make.out"'
check "Makefile: libraries found through PKG_CONFIG" grep -q libjpeg "$T_TMP/pc.log"
check "Makefile: no uname probing" eval '! grep -qw uname Makefile'

# --- the systemd unit
has() { grep -qx -- "$1" "$UNIT" || { diag "missing in $UNIT: $1"; return 1; }; }
check "unit: ExecStart, Type, Restart, reload, stop signal" eval '
	has "ExecStart=/usr/local/bin/kinglet -c /etc/kinglet/kinglet.conf" && has "Type=simple" &&
	has "Restart=on-failure" && has "ExecReload=/bin/kill -HUP \$MAINPID" && has "KillSignal=SIGTERM"'
check "unit: a dedicated user, one task per thread, no LimitNOFILE" eval '
	{ has "User=kinglet" || has "DynamicUser=yes"; } && has "TasksMax=2" && ! grep -q "^LimitNOFILE" $UNIT'
# MemoryMax = memory_limit of configs/kinglet.conf + 12 MB
ml=$(sed -n 's/^memory_limit *= *\([0-9]*\)M.*/\1/p' configs/kinglet.conf)
check "unit: MemoryMax = memory_limit ${ml}M + 12M" has "MemoryMax=$((ml + 12))M"
grace=$(sed -n 's/^shutdown_grace *= *\([0-9]*\)s.*/\1/p' configs/kinglet.conf)
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' $UNIT)
check "unit: TimeoutStopSec ${stop}s > shutdown_grace ${grace}s" test "${stop:-0}" -gt "${grace:-99}"
check "unit: sandboxing" eval '
	for l in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
		ProtectKernelLogs=yes ProtectControlGroups=yes \
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" RestrictNamespaces=yes \
		LockPersonality=yes MemoryDenyWriteExecute=yes SystemCallArchitectures=native \
		CapabilityBoundingSet= "#AmbientCapabilities=CAP_NET_BIND_SERVICE" \
		ReadOnlyPaths=/etc/kinglet; do has "$l" || exit 1; done'
if command -v systemd-analyze >/dev/null; then
	# the unit as installed, pointing at the binary under test
	sed "s#^ExecStart=/usr/local/bin/kinglet#ExecStart=$KINGLET#" $UNIT >"$T_TMP/kinglet.service"
	check "systemd-analyze verify" eval 'systemd-analyze verify "$T_TMP/kinglet.service" >"$T_TMP/verify.out" 2>&1 &&
		! grep -q . "$T_TMP/verify.out" || { sed "s/^/#   /" "$T_TMP/verify.out"; false; }'
else
	diag "systemd-analyze not installed: skipped"
fi

t_done
