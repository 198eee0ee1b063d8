"""Replays one measured step of a trainer's trace (`./trainer --trace`, a
run on two ranks or more, so that the gradient averages are in it) on N
ranks over a modelled network, and reports the predicted step time and
the scaling efficiency (one rank's step over N ranks' step, the batch per
rank fixed).

The replay keeps the step's compiled schedule and measured kernel times:
kernels run one after another on the compute track; each average starts
where the trace started it and crosses the network after the averages
started before it (one link, in order), taking the cost model's time; a
wait holds the compute track until its average is done. The host's time
outside kernels and waits (gathering the batch, reading the loss) stays as
measured. Cost models of an average of B bytes over N ranks, with a link
of latency alpha and bandwidth beta:

- link:  alpha + B / beta (what DLC_COMM_EMULATE_LINK does, on any N)
- ring:  2 (N - 1) alpha + 2 (N - 1) / N * B / beta
- tree:  2 ceil(log2 N) (alpha + B / beta)
- hierarchical: a ring within each node of --node-size ranks over the
  node's link (--node-gbit, --node-alpha-us), then a ring over the nodes
  on B / node-size bytes, then the node ring again

    /usr/bin/python3 -m dlc_tools.simulate_scaling TRACE.json --model ring --gbit 100 --alpha-us 5 --ranks 8,64,1024
"""
import argparse
import json
import math
import statistics
import sys


def load_step(path, step):
    """The events of step `step` (0-based) of the trace at `path`, in time
    order: ("kernel", duration), ("start", id, bytes), ("wait", id); the
    step's measured duration; and the time it waited. Times in seconds."""
    with open(path) as f:
        events = [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X"]
    steps = sorted((e for e in events if e["cat"] == "step" and e["name"] == "step"),
                   key=lambda e: e["ts"])
    if step >= len(steps):
        raise ValueError("%s has %d steps; no step %d" % (path, len(steps), step))
    lo, hi = steps[step]["ts"], steps[step]["ts"] + steps[step]["dur"]
    timeline, waited = [], 0.0
    for e in events:
        if not lo <= e["ts"] <= hi:
            continue
        if e["cat"] == "kernel":
            timeline.append((e["ts"], ("kernel", e["dur"] / 1e6)))
        elif e["cat"] == "wait":
            timeline.append((e["ts"], ("wait", e["args"]["id"])))
            waited += e["dur"] / 1e6
        elif e["cat"] == "comm":
            timeline.append((e["ts"], ("start", e["args"]["id"], e["args"]["bytes"])))
    timeline.sort(key=lambda item: item[0])
    return [event for _, event in timeline], (hi - lo) / 1e6, waited


def cost(model, bytes_, ranks, alpha, beta, node_size=8, node_alpha=1e-6, node_beta=None):
    """Seconds one average of `bytes_` takes over `ranks` ranks."""
    if model == "link":
        return alpha + bytes_ / beta
    if ranks == 1:
        return 0.0
    if model == "ring":
        return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * bytes_ / beta
    if model == "tree":
        return 2 * math.ceil(math.log2(ranks)) * (alpha + bytes_ / beta)
    if model == "hierarchical":
        local = min(node_size, ranks)
        nodes = max(1, ranks // local)
        within = cost("ring", bytes_, local, node_alpha, node_beta or beta)
        across = cost("ring", bytes_ / local, nodes, alpha, beta)
        return within + across + within
    raise ValueError("unknown cost model '%s'" % model)


def replay(events, average_seconds):
    """The seconds the step's kernels and waits take with each average
    taking average_seconds(bytes) on a link shared in order."""
    t, link_free, done = 0.0, 0.0, {}
    for event in events:
        if event[0] == "kernel":
            t += event[1]
        elif event[0] == "start":
            done[event[1]] = max(t, link_free) + average_seconds(event[2])
            link_free = done[event[1]]
        elif event[1] in done:
            t = max(t, done[event[1]])
    return t


def predict(path, step, model, ranks, alpha, beta, **node):
    """(predicted step seconds, one rank's step seconds) for step `step` of
    the trace on `ranks` ranks: the replay plus the host's measured time
    outside kernels and waits."""
    events, measured, waited = load_step(path, step)
    kernels = sum(e[1] for e in events if e[0] == "kernel")
    host = max(measured - kernels - waited, 0.0)
    seconds = replay(events, lambda b: cost(model, b, ranks, alpha, beta, **node))
    return seconds + host, kernels + host


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace")
    parser.add_argument("--model", default="ring",
                        choices=["link", "ring", "tree", "hierarchical"])
    parser.add_argument("--gbit", type=float, default=100.0, help="link bandwidth, Gbit/s")
    parser.add_argument("--alpha-us", type=float, default=5.0, help="link latency, us")
    parser.add_argument("--ranks", default="8,16,32,64,128,256,512,1024")
    parser.add_argument("--steps", default=None,
                        help="comma-separated steps to replay (default: all but the "
                             "first); the median prediction is reported")
    parser.add_argument("--node-size", type=int, default=8)
    parser.add_argument("--node-gbit", type=float, default=2400.0)
    parser.add_argument("--node-alpha-us", type=float, default=1.0)
    args = parser.parse_args()
    try:
        with open(args.trace) as f:
            count = sum(1 for e in json.load(f)["traceEvents"]
                        if e.get("cat") == "step" and e.get("name") == "step")
        steps = ([int(s) for s in args.steps.split(",")] if args.steps
                 else list(range(1, count)) or [0])
        node = {"node_size": args.node_size, "node_alpha": args.node_alpha_us * 1e-6,
                "node_beta": args.node_gbit * 1e9 / 8}
        print("| ranks | step (s) | one rank (s) | efficiency |")
        print("|---:|---:|---:|---:|")
        for ranks in map(int, args.ranks.split(",")):
            results = [predict(args.trace, s, args.model, ranks, args.alpha_us * 1e-6,
                               args.gbit * 1e9 / 8, **node) for s in steps]
            seconds = statistics.median(r[0] for r in results)
            alone = statistics.median(r[1] for r in results)
            print("| %d | %.4f | %.4f | %.1f%% |" % (ranks, seconds, alone,
                                                     100 * alone / seconds))
    except (OSError, ValueError, KeyError) as error:
        print("simulate_scaling: error: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
