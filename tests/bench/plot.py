#!/usr/bin/env python3
# plot.py BENCH_DIR OUT_DIR - bar charts (SVG, no dependencies) of the
# figures `make bench` wrote as markdown tables: the thumbnail command,
# the thumbs server, idle relayed connections and TLS sessions.
import os
import re
import sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def tables(path):
    """Every markdown table of a file as (title, header, rows)."""
    res, title, head, rows = [], "", None, []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("### "):
            title = line[4:]
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if head is None:
                head = cells
            elif not set(line) <= set("|-: "):
                rows.append(cells)
        elif head is not None:
            res.append((title, head, rows))
            head, rows = None, []
    if head is not None:
        res.append((title, head, rows))
    return res


def num(s):
    m = re.match(r"[-+]?[0-9]*\.?[0-9]+", s or "")
    return float(m.group(0)) if m else None


def bars(name, title, unit, items, better):
    """Horizontal bars; items = [(label, value)], kinglet's bars in green."""
    items = [(l, v) for l, v in items if v is not None]
    if not items:
        return
    w, lh, left, top = 720, 26, 300, 48
    h = top + lh * len(items) + 30
    vmax = max(v for _, v in items) or 1
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="15" font-weight="bold">%s</text>' % title,
           '<text x="10" y="38" fill="#555">%s (%s is better)</text>' % (unit, better)]
    for i, (label, v) in enumerate(items):
        y = top + i * lh
        bw = max(1, (w - left - 90) * v / vmax)
        colour = "#2e8b57" if label.startswith("kinglet") else "#8899aa"
        svg.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 8, y + 16, label))
        svg.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (left, y + 4, bw, lh - 8, colour))
        svg.append('<text x="%.1f" y="%d">%g</text>' % (left + bw + 6, y + 16, v))
    svg.append("</svg>")
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")
    print("wrote", os.path.join(out, name))


def pick(rows, head, col, where=lambda r: True, label=lambda r: r[1]):
    i = head.index(col)
    return [(label(r), num(r[i])) for r in rows if where(r)]


f = os.path.join(src, "thumb.md")
if os.path.exists(f):
    for title, head, rows in tables(f):
        rows = [r for r in rows if r[0] == "photo-12mp.jpg"]
        bars("thumb-12mp-rss.svg", "Thumbnail of a 12 MP JPEG (fit 300x300): peak RSS", "MB",
             pick(rows, head, "peak RSS MB"), "lower")
        bars("thumb-12mp-wall.svg", "Thumbnail of a 12 MP JPEG (fit 300x300): wall time", "ms",
             pick(rows, head, "wall ms"), "lower")
f = os.path.join(src, "thumbs.md")
if os.path.exists(f):
    for title, head, rows in tables(f):
        sel = lambda r: r[0] == "photo-12mp.jpg" and r[2] == "4"
        bars("thumbs-server-rate.svg", "Thumbs server, 12 MP JPEG, wrk -c4: thumbnails per second", "per s",
             pick(rows, head, "thumbs/s", sel), "higher")
        bars("thumbs-server-rss.svg", "Thumbs server, 12 MP JPEG, wrk -c4: peak RSS", "MB",
             pick(rows, head, "peak RSS MB", sel), "lower")
f = os.path.join(src, "relay.md")
if os.path.exists(f):
    for title, head, rows in tables(f):
        if "KB per connection" in head:
            bars("relay-idle.svg", "Relay: RSS per idle relayed connection (1000 held)", "KB",
                 pick(rows, head, "KB per connection", label=lambda r: r[0]), "lower")
        if "MB/s" in head and "relay CPU s per GB" in head:
            bars("relay-cpu.svg", "Relay: CPU seconds per GB relayed", "s/GB",
                 pick(rows, head, "relay CPU s per GB", lambda r: not r[0].startswith("(no"), lambda r: r[0]), "lower")
f = os.path.join(src, "tls.md")
if os.path.exists(f):
    for title, head, rows in tables(f):
        if "KB per session" in head:
            bars("tls-sessions.svg", "TLS relay: RSS per idle TLS session (200 held)", "KB",
                 pick(rows, head, "KB per session", label=lambda r: r[0]), "lower")
