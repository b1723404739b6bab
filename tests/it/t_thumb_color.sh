#!/usr/bin/env bash
# t_thumb_color.sh - EXIF orientations 1-8 come out upright, CMYK JPEG colours
# are right, alpha is flattened on white for JPEG, and resampled thumbnails
# match libvips' (when vipsthumbnail is installed).
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CMP=../shared/tools/compare-thumb.sh
n=0
say() { n=$((n + 1)); echo "$1 $n - $2"; }
psnr_ok() { awk -v p="$1" -v m="$2" 'BEGIN { exit !(p == "inf" || (p ~ /^[0-9.]+$/ && p + 0 >= m)) }'; }

# An asymmetric picture: four flat quadrants of unequal size.
convert -size 40x30 xc:'#d02020' -size 24x30 xc:'#20b020' +append \
	\( -size 40x18 xc:'#2040d0' -size 24x18 xc:'#e0d020' +append \) -append "$tmp/up.png"

# Stored pixels for EXIF orientation o: the inverse of what the tag asks for.
inverse=(x "" "-flop" "-rotate 180" "-flip" "-transpose" "-rotate -90" "-transverse" "-rotate 90")
for o in 1 2 3 4 5 6 7 8; do
	# shellcheck disable=SC2086
	convert "$tmp/up.png" ${inverse[$o]} -quality 97 -sampling-factor 1x1 "$tmp/s.jpg"
	python3 - "$tmp/s.jpg" "$tmp/o$o.jpg" "$o" <<'PY'
import struct, sys
src, dst, o = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = open(src, "rb").read()
tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + \
       struct.pack(">HHIHH", 0x0112, 3, 1, o, 0) + struct.pack(">I", 0)
app1 = b"Exif\x00\x00" + tiff
open(dst, "wb").write(b[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + b[2:])
PY
	"$KINGLET" thumb "$tmp/o$o.jpg" "$tmp/r$o.png" --fit 300x300 2>"$tmp/err"
	p=$(bash "$CMP" "$tmp/up.png" "$tmp/r$o.png" 2>&1)
	if psnr_ok "$p" 35; then
		say ok "EXIF orientation $o comes out upright (PSNR $p)"
	else
		say "not ok" "EXIF orientation $o: $p $(cat "$tmp/err")"
	fi
done
# a fill crop on a rotated image equals the same fill on the upright image (exact
# scale 1/2, so that resizing before or after the rotation gives the same grid)
"$KINGLET" thumb "$tmp/o6.jpg" "$tmp/f6.png" --fill 24x24 --gravity nowe 2>"$tmp/err"
"$KINGLET" thumb "$tmp/o1.jpg" "$tmp/f6ref.png" --fill 24x24 --gravity nowe 2>>"$tmp/err"
p=$(bash "$CMP" "$tmp/f6ref.png" "$tmp/f6.png" 2>&1)
psnr_ok "$p" 30 && say ok "fill 24x24 north-west on orientation 6 (PSNR $p)" || say "not ok" "fill on orientation 6: $p"
"$KINGLET" thumb "$tmp/o1.jpg" "$tmp/rot.png" --fit 300x300 --rotate 90 2>"$tmp/err"
convert "$tmp/up.png" -rotate 90 "$tmp/rotref.png"
p=$(bash "$CMP" "$tmp/rotref.png" "$tmp/rot.png" 2>&1)
psnr_ok "$p" 35 && say ok "--rotate 90 (PSNR $p)" || say "not ok" "--rotate 90: $p"

# CMYK (Adobe, inverted) JPEG against the RGB original
convert "$tmp/up.png" -colorspace CMYK -quality 97 "$tmp/cmyk.jpg"
if identify -format '%[colorspace]' "$tmp/cmyk.jpg" | grep -q CMYK; then
	"$KINGLET" thumb "$tmp/cmyk.jpg" "$tmp/cmyk.png" --fit 300x300 2>"$tmp/err"
	p=$(bash "$CMP" "$tmp/up.png" "$tmp/cmyk.png" 2>&1)
	psnr_ok "$p" 30 && say ok "CMYK JPEG colours (PSNR $p vs the RGB picture)" || say "not ok" "CMYK: $p $(cat "$tmp/err")"
else
	say "not ok" "ImageMagick did not write a CMYK JPEG"
fi

# alpha PNG -> JPEG sits on white; -> PNG keeps alpha
convert -size 40x40 xc:none -fill '#ff0000' -draw 'rectangle 0,0 19,39' "$tmp/alpha.png"
"$KINGLET" thumb "$tmp/alpha.png" "$tmp/alpha.jpg" --fit 300x300 2>"$tmp/err"
px() { convert "$1" -format "%[fx:int(255*p{$2}.r+.5)],%[fx:int(255*p{$2}.g+.5)],%[fx:int(255*p{$2}.b+.5)]" info:; }
right=$(px "$tmp/alpha.jpg" 32,20)
left=$(px "$tmp/alpha.jpg" 6,20)
awk -v r="$right" -v l="$left" 'BEGIN { split(r, a, ","); split(l, b, ",");
	exit !(a[1] > 245 && a[2] > 245 && a[3] > 245 && b[1] > 230 && b[2] < 30 && b[3] < 30) }' &&
	say ok "alpha PNG to JPEG: transparent half is white ($right), opaque half red ($left)" ||
	say "not ok" "alpha PNG to JPEG: right $right left $left"
"$KINGLET" thumb "$tmp/alpha.png" "$tmp/alpha2.png" --fit 300x300 2>"$tmp/err"
a=$(convert "$tmp/alpha2.png" -format '%[fx:int(255*p{32,20}.a)]' info:)
[ "$a" = 0 ] && say ok "alpha PNG to PNG keeps transparency" || say "not ok" "alpha kept: $a"

# resampling against libvips on real photos and a synthetic picture
if command -v vipsthumbnail >/dev/null; then
	convert -size 1600x1200 plasma:fractal -seed 7 \
		-fill '#ff0000' -draw 'rectangle 100,100 700,500' -fill '#0000ff' -draw 'circle 1200,800 1400,900' \
		-stroke black -draw 'line 0,600 1600,610' "$tmp/syn.png"
	for f in ../shared/bench-images/photo-2mp.jpg ../shared/bench-images/photo-2mp-rgba.png \
		../shared/bench-images/photo-12mp.jpg "$tmp/syn.png"; do
		[ -f "$f" ] || continue
		bash ../shared/tools/make-ref.sh "$f" "$tmp/ref.png"
		"$KINGLET" thumb "$f" "$tmp/t.png" --fit 300x300 2>"$tmp/err"
		p=$(bash "$CMP" "$tmp/ref.png" "$tmp/t.png" 2>&1)
		psnr_ok "$p" 35 && say ok "resampled $(basename "$f") vs vipsthumbnail: PSNR $p" ||
			say "not ok" "resampled $(basename "$f"): $p"
		"$KINGLET" thumb "$f" "$tmp/t.jpg" --fit 300x300 --quality 90 2>"$tmp/err"
		p=$(bash "$CMP" "$tmp/ref.png" "$tmp/t.jpg" 2>&1)
		psnr_ok "$p" 35 && say ok "resampled $(basename "$f") as JPEG q90: PSNR $p" ||
			say "not ok" "resampled $(basename "$f") JPEG q90: $p"
	done
else
	say ok "# SKIP vipsthumbnail not installed (libvips-tools)"
fi
echo "1..$n"
