#!/usr/bin/env bash
# t_thumb_corpus.sh - every conformance image through `kinglet thumb --fit 300x300`
# to PNG, compared with its libvips reference (PSNR), and the corrupt PngSuite
# files refused with the right exit status. One TAP line per image.
set -u
C=../shared/corpus
CMP=../shared/tools/compare-thumb.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
say() { n=$((n + 1)); echo "$1 $n - $2"; }

check() { # file, folder name for ref, min PSNR
	local f=$1 ref=$C/ref/$2/$(basename "$1").png min=$3 out=$tmp/o.png rc p
	"$KINGLET" thumb "$f" "$out" --fit 300x300 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		say "not ok" "$2/$(basename "$f"): exit $rc: $(cat "$tmp/err")"
		return
	fi
	p=$(bash "$CMP" "$ref" "$out" 2>&1)
	if [ "$p" = inf ] || awk -v p="$p" -v m="$min" 'BEGIN { exit !(p + 0 >= m && p ~ /^[0-9.]+$/) }'; then
		say "ok" "$2/$(basename "$f"): PSNR $p dB (>= $min)"
	else
		say "not ok" "$2/$(basename "$f"): PSNR $p dB (want >= $min)"
	fi
	echo "# psnr $p $2/$(basename "$f")"
}

refuse() { # file, expected exit status
	local f=$1 want=$2 rc
	"$KINGLET" thumb "$f" "$tmp/o.png" --fit 300x300 2>"$tmp/err"
	rc=$?
	if [ $rc -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]; then
		say "ok" "$(basename "$f") refused with exit $rc: $(cat "$tmp/err")"
	else
		say "not ok" "$(basename "$f"): exit $rc, want $want: $(cat "$tmp/err")"
	fi
}

# PngSuite: 32x32 and smaller are never resampled, so nearly exact
for f in "$C"/pngsuite/*.png; do check "$f" pngsuite 45; done
for f in "$C"/pngsuite/interlaced/*.png; do check "$f" pngsuite/interlaced 45; done
for f in "$C"/pngsuite-full/*.png; do
	case $(basename "$f") in
	xs*|xcr*|xlf*) refuse "$f" 3 ;;     # broken signature: not a PNG at all
	x*) refuse "$f" 4 ;;                # corrupt PNG
	*) check "$f" pngsuite-full 45 ;;
	esac
done
for f in "$C"/jpeg/*.jpg "$C"/jpeg/*.png; do
	case $(basename "$f") in
	*12.jpg) refuse "$f" 3 ;;           # 12-bit: libjpeg-turbo 2.1 has no 12-bit path
	*) check "$f" jpeg 35 ;;
	esac
done
echo "1..$n"
