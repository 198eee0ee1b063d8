"""Draws the number formats a trainer chose (./trainer --precision-plan-out)
over the statistics they were chosen from (--stats-out) as an SVG: one row
per tensor, its histogram of leading-bit positions as shaded cells (darker:
more values at that power of two), and the range its format holds at its
exponent as a coloured bar, so that one can see which values each format
leaves above (saturated) or below (flushed to zero) its range.

    /usr/bin/python3 -m dlc_tools.plot_precision plan.json stats.json -o formats.svg
"""
import argparse
import math
import sys
from xml.sax.saxutils import escape

from dlc_tools.svg_output import read_json, write_svg

# Each format's leading-bit positions unscaled: smallest subnormal to
# largest finite value (Formats.h), and its colour.
FORMATS = {"int8": (0, 6, "#1b9e77"), "fp8e4m3": (-9, 8, "#d95f02"),
           "fp8e5m2": (-16, 15, "#7570b3"), "int16": (0, 14, "#66a61e"),
           "fp16": (-24, 15, "#e7298a"), "bf16": (-133, 127, "#e6ab02"),
           "fp32": (-149, 127, "#999999")}
ROW, NAME_W, CELL, TOP, LEGEND_W = 16, 260, 9, 40, 150


def rows(plan, stats):
    """(name, kind, format, exponent, {position: count}) per tensor of the
    plan, with the statistics of the tensor of the same name."""
    recorded = {t["name"]: t for t in stats["tensors"]}
    out = []
    for tensor in plan["tensors"]:
        if tensor["name"] not in recorded:
            raise ValueError("no statistics for tensor '%s'" % tensor["name"])
        if tensor["format"] not in FORMATS:
            raise ValueError("tensor '%s': unknown format '%s'" % (tensor["name"],
                                                                   tensor["format"]))
        histogram = {int(p): c for p, c in recorded[tensor["name"]]["histogram"].items()}
        out.append((tensor["name"], tensor["kind"], tensor["format"], tensor["exponent"],
                    histogram))
    return out


def render(plan, stats, title):
    tensors = rows(plan, stats)
    positions = [p for *_, h in tensors for p, c in h.items() if c]
    if not positions:
        raise ValueError("the statistics hold no nonzero values")
    low, high = min(positions) - 2, max(positions) + 2
    width = NAME_W + CELL * (high - low + 1) + LEGEND_W
    height = TOP + ROW * len(tensors) + 40
    x = lambda p: NAME_W + CELL * (p - low)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="18" font-size="14">%s</text>' % escape(title)]
    for row, (name, kind, fmt, exponent, histogram) in enumerate(tensors):
        y = TOP + ROW * row
        out.append('<text x="%d" y="%d" text-anchor="end">%s (%s)</text>'
                   % (NAME_W - 6, y + 11, escape(name), kind.replace("_", " ")))
        lowest, highest, colour = FORMATS[fmt]
        first, last = max(lowest + exponent, low), min(highest + exponent, high)
        if first <= last:
            out.append('<rect class="range" x="%d" y="%d" width="%d" height="%d" fill="%s" '
                       'fill-opacity="0.35"><title>%s at 2^%d</title></rect>'
                       % (x(first), y + 1, CELL * (last - first + 1), ROW - 2, colour,
                          fmt, exponent))
        total = sum(histogram.values()) or 1
        for position, count in sorted(histogram.items()):
            if count == 0 or not low <= position <= high:
                continue
            # Shade by the log of the share, so that rare values still show.
            shade = 1 - min(1.0, max(0.15, 1 + math.log10(count / total) / 6))
            out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="rgb(%d,%d,%d)"/>'
                       % (x(position) + 1, y + 4, CELL - 2, ROW - 8, *(3 * [int(255 * shade)])))
    axis = TOP + ROW * len(tensors) + 4
    for position in range(low - low % 5 + 5, high + 1, 5):
        out.append('<text x="%d" y="%d" text-anchor="middle">2^%d</text>'
                   % (x(position) + CELL // 2, axis + 12, position))
    out.append('<text x="%d" y="%d">leading-bit position of the values</text>'
               % (NAME_W, axis + 28))
    used = sorted({fmt for _, _, fmt, _, _ in tensors}, key=list(FORMATS).index)
    for k, fmt in enumerate(used):
        lx = width - LEGEND_W + 15
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s" fill-opacity="0.35"/>'
                   % (lx, TOP + 18 * k, FORMATS[fmt][2]))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 18, TOP + 18 * k + 10, fmt))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", help="the JSON file ./trainer --precision-plan-out wrote")
    parser.add_argument("stats", help="the JSON file ./trainer --stats-out wrote")
    parser.add_argument("-o", "--output", required=True, help="the SVG file to write")
    parser.add_argument("--title", help="the picture's title (default: the plan's name)")
    args = parser.parse_args(argv)
    return write_svg("plot_precision", args.output, lambda: render(
        read_json(args.plan), read_json(args.stats), args.title or args.plan))

if __name__ == "__main__":
    sys.exit(main())
