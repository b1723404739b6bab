#!/usr/bin/env bash
# thumb.sh - `kinglet thumb` beside vipsthumbnail, ImageMagick, sharp and the
# libjpeg-turbo floor (djpeg -scale 1/8), on the same files in the same run.
# Writes $BENCH_OUT/thumb.md. Not a test: nothing here asserts a time.
set -u
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
: "${KINGLET:=./kinglet}"
IMG=../shared/bench-images
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
have_sharp=0
if [ -d tests/bench/node_modules/sharp ] || (cd tests/bench && npm install --silent --no-audit --no-fund >/dev/null 2>&1); then
	have_sharp=1
fi

out=$BENCH_OUT/thumb.md
{
echo "### Thumbnail command: fit 300x300 (median of $RUNS runs, whole process)"
echo
echo "| source | tool | wall ms | CPU ms | peak RSS MB | wall vs kinglet | RSS vs kinglet |"
echo "|---|---|---:|---:|---:|---:|---:|"
} >"$out"

row() { # source tool
	printf '| %s | %s | %.0f | %.0f | %s | %s | %s |\n' "$1" "$2" "$M_WALL" "$M_CPU" "$(mib "$M_RSS")" \
		"$(ratio "$M_WALL" "$K_WALL")" "$(ratio "$M_RSS" "$K_RSS")" >>"$out"
	[ "$M_OK" = 1 ] || echo "| | ($2 failed on some runs) | | | | | |" >>"$out"
}

for src in photo-12mp.jpg photo-12mp-prog.jpg photo-2mp-rgba.png; do
	f=$IMG/$src
	[ -f "$f" ] || continue
	ext=jpg; case "$src" in *.png) ext=png ;; esac
	measure "$KINGLET" thumb "$f" "$tmp/k.$ext" --fit 300x300 --arena 64M
	K_WALL=$M_WALL K_RSS=$M_RSS
	row "$src" "kinglet thumb"
	if command -v vipsthumbnail >/dev/null; then
		measure vipsthumbnail "$f" --size 300x300 -o "$tmp/v.$ext[Q=80]"
		row "$src" "vipsthumbnail"
	fi
	if command -v convert >/dev/null; then
		measure convert "$f" -thumbnail 300x300 -quality 80 "$tmp/c.$ext"
		row "$src" "ImageMagick convert -thumbnail"
	fi
	if [ "$have_sharp" = 1 ]; then
		measure node tests/bench/sharp-thumb.js "$f" "$tmp/s.$ext" 300x300 1
		row "$src" "sharp (node, one image per process)"
		ms=$(node tests/bench/sharp-thumb.js "$f" "$tmp/s.$ext" 300x300 "$RUNS")
		echo "| | sharp in-process, per image (no Node.js start-up) | $ms | | | $(ratio "$ms" "$K_WALL") | |" >>"$out"
	fi
	case "$src" in *.jpg)
		if command -v djpeg >/dev/null; then
			measure djpeg -scale 1/8 -outfile /dev/null "$f"
			row "$src" "djpeg -scale 1/8 (decode floor)"
		fi ;;
	esac
done
echo >>"$out"
echo "kinglet $("$KINGLET" --version | cut -d' ' -f2), $(nproc) cores, $(date -u +%Y-%m-%d)." >>"$out"
cat "$out"
