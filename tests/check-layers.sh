#!/bin/sh
# check-layers.sh - enforce the layering: calls go down, callbacks go up.
#   proto/, img/  include only base/ (and codec/crypto libraries)
#   base/         includes nothing of ours but base/
#   port.h        only from ev/, net/, app/ (and port/ itself)
#   relay/, imgsrv/ never include each other; nothing below app/ includes app/
# Prints each violation; exit 1 when there is one. Runs as a test in `make test`.
cd "$(dirname "$0")/.." || exit 2
bad=0
viol() { echo "layer violation: $1"; bad=1; }

for f in src/proto/*.[ch] src/img/*.[ch] src/base/*.[ch]; do
	[ -f "$f" ] || continue
	own=$(basename "$(dirname "$f")")
	if grep -Hn '#include "' "$f" | grep -v -e '#include "base/' -e "#include \"$own/"; then
		echo "layer violation: $f includes more than base/ and $own/"
		bad=1
	fi
done
for f in src/*/*.[ch]; do
	case "$f" in src/ev/*|src/net/*|src/app/*) continue ;; esac
	if grep -q '#include "port.h"' "$f"; then viol "$f includes port.h"; fi
done
for f in src/*/*.[ch]; do
	case "$f" in src/app/*) continue ;; esac
	if grep -q '#include "app/' "$f"; then viol "$f includes app/ (only app/ may; calls go down)"; fi
done
for f in src/relay/*.[ch]; do
	[ -f "$f" ] && grep -q '#include "imgsrv/' "$f" && viol "$f includes imgsrv/"
done
for f in src/imgsrv/*.[ch]; do
	[ -f "$f" ] && grep -q '#include "relay/' "$f" && viol "$f includes relay/"
done
for f in src/*/*.c; do
	grep -q '__linux__' "$f" 2>/dev/null && viol "$f uses #ifdef __linux__ (port/ only)"
done
exit $bad
