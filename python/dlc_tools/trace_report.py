"""Reads the Chrome traces of `./trainer --trace FILE.json` (one per rank
under mpirun: FILE.rank<N>.json) and reports, per rank and step, the step's
time, the time its kernels ran (compute), the time gradient averages were
in flight (communication: the union of their spans within the step) and
the time the step waited for them (exposed communication); hidden is the
share of communication the step did not wait for. With --svg, draws the
timeline of one step of every rank: kernels and waits on the compute
track, averages in flight below.

    /usr/bin/python3 -m dlc_tools.trace_report trace.rank0.json trace.rank1.json [--svg steps.svg] [--step 2]
"""
import argparse
import json
import statistics
import sys
from xml.sax.saxutils import escape

WIDTH, ROW, LEFT, RIGHT, TOP = 960, 26, 110, 20, 34
COLOURS = {"kernel": "#66c2a5", "wait": "#e41a1c", "comm": "#8da0cb"}


def load(path):
    """(rank, spans): every complete event as (category, name, start, end)
    in microseconds."""
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    rank = next((e["pid"] for e in events if e.get("ph") == "X"), 0)
    spans = [(e["cat"], e["name"], e["ts"], e["ts"] + e["dur"])
             for e in events if e.get("ph") == "X"]
    return rank, spans


def union_length(intervals, lo, hi):
    """The length of the union of `intervals` clipped to [lo, hi]."""
    clipped = sorted((max(a, lo), min(b, hi)) for a, b in intervals if b > lo and a < hi)
    total, end = 0.0, lo
    for a, b in clipped:
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def steps(spans):
    """Per step of the trace: its window and the four times (ms)."""
    rows = []
    comm = [(a, b) for cat, _, a, b in spans if cat == "comm"]
    for cat, name, lo, hi in sorted(s for s in spans if s[0] == "step" and s[1] == "step"):
        inside = [(c, a, b) for c, _, a, b in spans if a >= lo and b <= hi]
        compute = sum(b - a for c, a, b in inside if c == "kernel")
        waited = sum(b - a for c, a, b in inside if c == "wait")
        communication = union_length(comm, lo, hi)
        rows.append({"start": lo, "end": hi, "step_ms": (hi - lo) / 1e3,
                     "compute_ms": compute / 1e3, "communication_ms": communication / 1e3,
                     "exposed_ms": waited / 1e3,
                     "hidden": 1 - waited / communication if communication > 0 else None})
    return rows


def svg(traces, step):
    """One step of each rank, drawn on a common time axis from the step's
    start on each rank."""
    windows = {}
    for rank, spans in traces:
        rows = steps(spans)
        if step >= len(rows):
            raise ValueError("rank %d has %d steps; no step %d" % (rank, len(rows), step))
        windows[rank] = (rows[step]["start"], rows[step]["end"])
    longest = max(hi - lo for lo, hi in windows.values())
    height = TOP + ROW * 2 * len(traces) + 30
    scale = (WIDTH - LEFT - RIGHT) / longest
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (WIDTH, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">step %d: kernels (green), waits for '
           'gradient averages (red), averages in flight (blue)</text>' % (LEFT, step)]
    for row, (rank, spans) in enumerate(sorted(traces)):
        lo, hi = windows[rank]
        for track, label, cats in ((0, "rank %d compute" % rank, ("kernel", "wait")),
                                   (1, "rank %d comm" % rank, ("comm",))):
            y = TOP + ROW * (2 * row + track)
            out.append('<text x="4" y="%d">%s</text>' % (y + 16, escape(label)))
            for cat, name, a, b in spans:
                if cat not in cats or b < lo or a > hi:
                    continue
                x0 = LEFT + (max(a, lo) - lo) * scale
                w = max((min(b, hi) - max(a, lo)) * scale, 0.5)
                out.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s">'
                           '<title>%s %.3f ms</title></rect>'
                           % (x0, y + 3, w, ROW - 6, COLOURS[cat], escape(name), (b - a) / 1e3))
    axis = TOP + ROW * 2 * len(traces) + 16
    out.append('<text x="%d" y="%d">0</text>' % (LEFT, axis))
    out.append('<text x="%d" y="%d" text-anchor="end">%.1f ms</text>'
               % (WIDTH - RIGHT, axis, longest / 1e3))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("traces", nargs="+")
    parser.add_argument("--svg", help="draw one step of every rank here")
    parser.add_argument("--step", type=int, default=1,
                        help="the step --svg draws (0-based; default 1, after the first)")
    args = parser.parse_args()
    try:
        traces = [load(path) for path in args.traces]
    except (OSError, ValueError, KeyError) as error:
        print("trace_report: error: %s" % error, file=sys.stderr)
        return 1
    print("| rank | steps | step (ms) | compute (ms) | communication (ms) | exposed (ms) | hidden |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for rank, spans in sorted(traces):
        rows = steps(spans)[1:] or steps(spans)  # the first step builds plans
        if not rows:
            print("rank %d: no steps in the trace" % rank, file=sys.stderr)
            continue
        median = {k: statistics.median(r[k] for r in rows)
                  for k in ("step_ms", "compute_ms", "communication_ms", "exposed_ms")}
        hidden = [r["hidden"] for r in rows if r["hidden"] is not None]
        print("| %d | %d | %.2f | %.2f | %.2f | %.2f | %s |" % (
            rank, len(rows), median["step_ms"], median["compute_ms"],
            median["communication_ms"], median["exposed_ms"],
            "%.0f%%" % (100 * statistics.median(hidden)) if hidden else "-"))
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg(traces, args.step))
    return 0


if __name__ == "__main__":
    sys.exit(main())
