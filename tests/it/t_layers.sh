#!/usr/bin/env bash
# t_layers.sh - the include graph follows the layering of STYLE (check-layers).
. "$(dirname "$0")/lib.sh"
if out=$(sh tests/check-layers.sh 2>&1); then ok "layering: proto/ img/ base/ pure, port.h only in ev/ net/ app/"; else not_ok "layering"; echo "$out" | sed 's/^/# /'; fi
t_done
