#!/usr/bin/env bash
# t_imgurl_npm.sh - URLs built by imgproxy's own URL builder (npm package
# @imgproxy/imgproxy-node) must parse and verify in kinglet, with the
# fields the builder was asked for. Prints TAP lines.
# Environment: UNIT_DIR (where t_imgurl was built; tests/run.sh exports it).
set -u
cd "$(dirname "$0")/../.."
unit=$(realpath "${UNIT_DIR:-build/rel/tests}")/t_imgurl
key=943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881
salt=520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "not ok - node and npm are needed to run imgproxy's URL builder"
	exit 1
fi
if [ ! -x "$unit" ]; then
	echo "not ok - $unit not built"
	exit 1
fi
if [ ! -d tests/node/node_modules/@imgproxy/imgproxy-node ]; then
	if ! (cd tests/node && npm ci --silent --no-audit --no-fund) >"$tmp/npm.log" 2>&1; then
		echo "not ok - npm ci in tests/node failed: $(grep -v '^npm warn' "$tmp/npm.log" | tail -n 3 | tr '\n' ' ')"
		exit 1
	fi
fi
if ! node tests/node/make-urls.mjs "$key" "$salt" >"$tmp/urls" 2>"$tmp/node.log"; then
	echo "not ok - make-urls.mjs failed: $(tail -n 3 "$tmp/node.log" | tr '\n' ' ')"
	exit 1
fi
echo "ok - imgproxy-node built $(($(wc -l <"$tmp/urls") - 1)) URLs"
IMGURL_NPM_FILE="$tmp/urls" "$unit"
