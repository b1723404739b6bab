# uci_stub.sh - a small stand-in for the part of OpenWrt's /lib/functions.sh
# that port/openwrt/files/kinglet-uci2conf uses, so that the converter runs
# on any POSIX shell. config_load parses the UCI text itself (awk) instead
# of asking uci, and keeps the same shell variables, section naming and
# callbacks (config_cb, option_cb, list_cb) as the real library:
#   CONFIG_SECTIONS, CONFIG_<section>_TYPE, CONFIG_<section>_<option>,
#   and for lists <option>_ITEM<n> / <option>_LENGTH, the items also joined
#   with blanks in CONFIG_<section>_<option>.
# Anonymous sections are named cfgNNNNNN. Reads $UCI_CONFIG_DIR/<package>
# (default /etc/config/<package>).
# Variables set through eval are invisible to shellcheck:
# shellcheck disable=SC2154

reset_cb() {
	config_cb() { return 0; }
	option_cb() { return 0; }
	list_cb() { return 0; }
}
reset_cb

config_set() { # SECTION OPTION VALUE
	eval "CONFIG_${1}_${2}=\$3"
}

config_get() { # VAR SECTION OPTION [DEFAULT]: an empty option gives DEFAULT too
	eval "$1=\${CONFIG_${2}_${3}:-\$4}"
}

config_get_bool() { # VAR SECTION OPTION [DEFAULT]
	config_get _uci_b "$2" "$3" "$4"
	case $_uci_b in
	1 | on | true | yes | enabled) _uci_b=1 ;;
	0 | off | false | no | disabled) _uci_b=0 ;;
	*) _uci_b=$4 ;;
	esac
	eval "$1=\$_uci_b"
}

config_foreach() { # FUNCTION [TYPE] [ARGS...]
	_uci_fn=$1
	[ "$#" -ge 1 ] && shift
	_uci_type=$1
	[ "$#" -ge 1 ] && shift
	for _uci_s in $CONFIG_SECTIONS; do
		if [ -n "$_uci_type" ]; then
			eval "_uci_t=\$CONFIG_${_uci_s}_TYPE"
			[ "$_uci_t" = "$_uci_type" ] || continue
		fi
		"$_uci_fn" "$_uci_s" "$@"
	done
}

config_list_foreach() { # SECTION OPTION FUNCTION [ARGS...]
	[ "$#" -ge 3 ] || return 0
	_uci_ls=$1 _uci_lo=$2 _uci_lf=$3
	shift 3
	config_get _uci_len "$_uci_ls" "${_uci_lo}_LENGTH"
	[ -n "$_uci_len" ] || return 0
	_uci_c=1
	while [ "$_uci_c" -le "$_uci_len" ]; do
		config_get _uci_val "$_uci_ls" "${_uci_lo}_ITEM$_uci_c"
		"$_uci_lf" "$_uci_val" "$@"
		_uci_c=$((_uci_c + 1))
	done
}

# Called by the parsed text, as uci's export output calls the real ones.
_uci_config() { # TYPE [NAME]
	[ -n "$CONFIG_SECTION" ] && config_cb
	_uci_anon=$((_uci_anon + 1))
	CONFIG_SECTION=${2:-$(printf 'cfg%06x' "$_uci_anon")}
	CONFIG_SECTIONS="${CONFIG_SECTIONS:+$CONFIG_SECTIONS }$CONFIG_SECTION"
	config_set "$CONFIG_SECTION" TYPE "$1"
	config_cb "$1" "$CONFIG_SECTION"
}
_uci_option() { # NAME VALUE
	config_set "$CONFIG_SECTION" "$1" "$2"
	option_cb "$1" "$2"
}
_uci_list() { # NAME VALUE
	config_get _uci_n "$CONFIG_SECTION" "${1}_LENGTH"
	_uci_n=$((${_uci_n:-0} + 1))
	config_set "$CONFIG_SECTION" "${1}_ITEM$_uci_n" "$2"
	config_set "$CONFIG_SECTION" "${1}_LENGTH" "$_uci_n"
	config_get _uci_all "$CONFIG_SECTION" "$1"
	config_set "$CONFIG_SECTION" "$1" "${_uci_all:+$_uci_all }$2"
	list_cb "$1" "$2"
}

config_load() { # PACKAGE
	_uci_file=${UCI_CONFIG_DIR:-/etc/config}/$1
	[ -r "$_uci_file" ] || return 1
	CONFIG_SECTIONS=""
	CONFIG_SECTION=""
	_uci_anon=0
	_uci_code=$(awk -f - "$_uci_file" <<'AWK'
# Splits each line into words the way uci reads them: 'single' quotes,
# "double" quotes (with \ escapes), bare words with \ escapes; adjacent
# pieces join ('a'\''b' is a'b). Prints one shell call per statement.
function sq(s) { gsub(/'/, "'\\''", s); return "'" s "'" }
function words(line,    i, c, w, inw, q, n) {
	n = 0; w = ""; inw = 0; q = ""
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (q == "'") { if (c == "'") q = ""; else w = w c; continue }
		if (q == "\"") {
			if (c == "\\" && i < length(line)) { i++; w = w substr(line, i, 1) }
			else if (c == "\"") q = ""
			else w = w c
			continue
		}
		if (c == "'" || c == "\"") { q = c; inw = 1; continue }
		if (c == "\\" && i < length(line)) { i++; w = w substr(line, i, 1); inw = 1; continue }
		if (c == " " || c == "\t") { if (inw) { W[++n] = w; w = ""; inw = 0 }; continue }
		if (c == "#" && !inw) break
		w = w c; inw = 1
	}
	if (q != "") { bad = bad FILENAME ":" NR ": unterminated quote\n"; return 0 }
	if (inw) W[++n] = w
	return n
}
function ident(s) { return s ~ /^[A-Za-z0-9_]+$/ }
{
	n = words($0)
	if (n == 0) next
	if (W[1] == "package") next
	if (W[1] == "config" && n >= 2 && n <= 3 && ident(W[2]) && (n == 2 || ident(W[3]))) {
		print "_uci_config " sq(W[2]) (n == 3 ? " " sq(W[3]) : ""); next
	}
	if ((W[1] == "option" || W[1] == "list") && n == 3 && ident(W[2])) {
		print "_uci_" W[1] " " sq(W[2]) " " sq(W[3]); next
	}
	bad = bad FILENAME ":" NR ": not a uci statement: " $0 "\n"
}
END { if (bad != "") { printf "%s", bad > "/dev/stderr"; print "false" } }
AWK
	) || return 1
	eval "$_uci_code" || return 1
	[ -n "$CONFIG_SECTION" ] && config_cb
	return 0
}
