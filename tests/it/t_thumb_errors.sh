#!/usr/bin/env bash
# t_thumb_errors.sh - truncated, corrupt, unsupported and bomb inputs are
# refused by `kinglet thumb` with the right exit status, quickly and in
# little memory. Exit statuses: 3 unsupported, 4 corrupt, 5 over a limit.
set -u
C=../shared/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
say() { n=$((n + 1)); echo "$1 $n - $2"; }

expect() { # want-status, what, file [extra args]
	local want=$1 what=$2 f=$3 rc
	shift 3
	/usr/bin/time -f '%M' -o "$tmp/rss" "$KINGLET" thumb "$f" "$tmp/o.jpg" --fit 300x300 "$@" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -e "$tmp/o.jpg" ]; then
		say "ok" "$what: exit $rc, $(cat "$tmp/err") (peak RSS $(tail -n 1 "$tmp/rss") KB)"
	else
		say "not ok" "$what: exit $rc (want $want): $(cat "$tmp/err")"
	fi
	rm -f "$tmp/o.jpg"
}

# truncations of every corpus JPEG and a sample of PNGs at several offsets
for f in "$C"/jpeg/test*.jpg "$C"/pngsuite/bas*.png "$C"/pngsuite/interlaced/*.png "$C"/jpeg/*.png; do
	case $f in *12.jpg) continue ;; esac
	size=$(stat -c %s "$f")
	for cut in 9 $((size / 3)) $((size / 2)) $((size - 13)) $((size - 1)); do
		[ "$cut" -ge 9 ] && [ "$cut" -lt "$size" ] || continue
		head -c "$cut" "$f" >"$tmp/cut"
		expect 4 "$(basename "$f") cut at $cut of $size" "$tmp/cut"
	done
done

# corrupt data in the middle of the entropy-coded segment
f=$C/jpeg/testorig.jpg
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); [b.__setitem__(i, 0xff) for i in range(len(b)//2, len(b)//2+40, 2)]; open(sys.argv[2],"wb").write(b)' "$f" "$tmp/bad.jpg"
expect 4 "JPEG with corrupt scan data" "$tmp/bad.jpg"

# unsupported
printf 'GIF89a\001\000\001\000\000\000\000;' >"$tmp/x.gif"
expect 3 "GIF" "$tmp/x.gif"
printf 'hello world, not an image\n' >"$tmp/x.txt"
expect 3 "text" "$tmp/x.txt"
expect 3 "12-bit JPEG" "$C/jpeg/testorig12.jpg"
: >"$tmp/empty"
expect 4 "empty file" "$tmp/empty"

# PNG bomb: 20000x20000 gray, a few KB of zlib data
python3 - "$tmp/bomb.png" <<'PY'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
w = h = 20000
co = zlib.compressobj(9)
raw = b"".join(co.compress(b"\0" + b"\0" * w) for _ in range(h)) + co.flush()
ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
PY
say ok "PNG bomb is $(stat -c %s "$tmp/bomb.png") bytes for 400 MP"
expect 5 "PNG bomb 20000x20000 (over 50 MP)" "$tmp/bomb.png"

# JPEG whose SOF claims 65000x65000
python3 - "$C/jpeg/testorig.jpg" "$tmp/huge.jpg" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = 2
while i < len(b):
    m = b[i + 1]; l = b[i + 2] << 8 | b[i + 3]
    if m in (0xc0, 0xc1, 0xc2):
        b[i + 5:i + 9] = bytes([65000 >> 8, 65000 & 255, 65000 >> 8, 65000 & 255])
        break
    i += 2 + l
open(sys.argv[2], "wb").write(b)
PY
expect 5 "JPEG SOF 65000x65000 (4225 MP)" "$tmp/huge.jpg"
if grep -q "source resolution 4225 MP is over the 50 MP limit" "$tmp/err"; then
	say ok "resolution reason names both numbers"
else
	say "not ok" "resolution reason: $(cat "$tmp/err")"
fi
# same header with the limit lifted: the data runs out long before 65000 rows
expect 4 "JPEG SOF 65000x65000 with the limit lifted: truncated" "$tmp/huge.jpg" --max-mp 5000

# progressive JPEG admitted only when its coefficients fit the arena
expect 5 "12 MP progressive JPEG in a 16 MB arena" ../shared/bench-images/photo-12mp-prog.jpg --arena 16M
grep -q "progressive JPEG needs" "$tmp/err" && say ok "reason: $(cat "$tmp/err")" || say "not ok" "reason: $(cat "$tmp/err")"
"$KINGLET" thumb ../shared/bench-images/photo-12mp.jpg "$tmp/o.jpg" --fit 300x300 --arena 2M 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && say ok "12 MP baseline JPEG streams through a 2 MB arena" || say "not ok" "12 MP baseline in 2 MB: exit $rc $(cat "$tmp/err")"
rm -f "$tmp/o.jpg"

# usage
"$KINGLET" thumb 2>/dev/null; rc=$?
[ $rc -eq 2 ] && say ok "no arguments: usage, exit 2" || say "not ok" "no arguments: exit $rc"
"$KINGLET" thumb /nonexistent/x.jpg "$tmp/o.jpg" --fit 10x10 2>/dev/null; rc=$?
[ $rc -eq 1 ] && say ok "missing input: exit 1" || say "not ok" "missing input: exit $rc"
echo "1..$n"
