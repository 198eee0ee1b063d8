"""Draws the timeline of `dlc --report-memory FILE.json` as an SVG: the bytes
live while each operation of the training step runs, stacked by kind
(parameters and optimizer state, which live throughout, then activations,
gradients and kernel scratch), with the planned arena and the lower bound
as lines, so that one can see where the peak is and what makes it.

    /usr/bin/python3 -m dlc_tools.plot_memory report.json -o memory.svg
"""
import argparse
import sys
from xml.sax.saxutils import escape

from dlc_tools.svg_output import read_json, write_svg

KINDS = [("parameters", "#8da0cb"), ("optimizer state", "#b3b3d9"),
         ("activations", "#66c2a5"), ("gradients", "#fc8d62"), ("scratch", "#e5c494")]
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 960, 420, 70, 170, 30, 40


def layers(report):
    """The stacked kinds' bytes at each point of the timeline."""
    points = report["timeline"]
    constant = [report["parameter_bytes"], report["optimizer_state_bytes"]]
    return [constant + [p["activations"], p["gradients"], p["scratch"]] for p in points]


def render(report, title):
    stacks = layers(report)
    if not stacks:
        raise ValueError("the report has no timeline (no @train_step)")
    top = max(report["arena_bytes"], max(sum(s) for s in stacks)) * 1.05
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x = lambda i: LEFT + plot_w * i / max(1, len(stacks) - 1)
    y = lambda b: TOP + plot_h * (1 - b / top)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (WIDTH, HEIGHT),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">%s</text>' % (LEFT, escape(title))]
    below = [0] * len(stacks)
    for k, (name, colour) in enumerate(KINDS):
        above = [b + s[k] for b, s in zip(below, stacks)]
        path = ["%.1f,%.1f" % (x(i), y(v)) for i, v in enumerate(above)]
        path += ["%.1f,%.1f" % (x(i), y(v)) for i, v in reversed(list(enumerate(below)))]
        out.append('<polygon points="%s" fill="%s" stroke="none"/>' % (" ".join(path), colour))
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>'
                   % (WIDTH - RIGHT + 15, TOP + 18 * k, colour))
        out.append('<text x="%d" y="%d">%s</text>' % (WIDTH - RIGHT + 32, TOP + 18 * k + 10, name))
        below = above
    for k, (name, key, dash) in enumerate([("arena", "arena_bytes", ""),
                                           ("lower bound", "lower_bound_bytes", "6,4")]):
        level = y(report[key])
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="black" '
                   'stroke-dasharray="%s"/>' % (LEFT, WIDTH - RIGHT, level, level, dash))
        out.append('<text x="%d" y="%d">%s %.0f MB</text>'
                   % (WIDTH - RIGHT + 15, TOP + 18 * (len(KINDS) + k) + 10, name,
                      report[key] / 1e6))
    peak = max(range(len(stacks)), key=lambda i: sum(stacks[i]))
    out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="grey"/>'
               % (x(peak), x(peak), TOP, TOP + plot_h))
    out.append('<text x="%.1f" y="%d" fill="grey">peak at %s</text>'
               % (x(peak) + 4, TOP + 12, escape(report["timeline"][peak]["op"])))
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.0f MB</text>'
                   % (LEFT - 6, y(top * frac) + 4, top * frac / 1e6))
    out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>'
               % (LEFT, WIDTH - RIGHT, TOP + plot_h, TOP + plot_h))
    out.append('<text x="%d" y="%d">operations of the training step, in order (%d)</text>'
               % (LEFT, HEIGHT - 12, len(stacks)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="the JSON file dlc --report-memory wrote")
    parser.add_argument("-o", "--output", required=True, help="the SVG file to write")
    parser.add_argument("--title", help="the picture's title (default: the report's name)")
    args = parser.parse_args(argv)
    return write_svg("plot_memory: " + args.report, args.output,
                     lambda: render(read_json(args.report), args.title or args.report))

if __name__ == "__main__":
    sys.exit(main())
