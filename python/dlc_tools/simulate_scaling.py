"""Replays the measured steps of a trainer's trace (`./trainer --trace`, a
run on two ranks or more, so that the gradient averages are in it) on N
ranks over a modelled network, and reports the predicted step time and
the scaling efficiency (one rank's step over N ranks' step, the batch per
rank fixed).

The replay keeps the compiled schedule and measured kernel times: kernels
run one after another on the compute track; each average starts where the
trace started it and needs the cost model's time of the link, which the
averages in flight share as the trainer sent them: with
DLC_COMM_ORDER=priority the one needed first first (the trace records the
priorities), otherwise in the order they started under the link model
(DLC_COMM_EMULATE_LINK) and all at once under the others (MPI progresses
its collectives over TCP together); --sharing asks what another order
would give. A wait holds the compute track until its average is done. A
step is replayed after the two before it, so that a pipelined step
(--overlap=next-forward) waits for the averages its predecessor started,
behind the link's backlog. The host's time between kernels and waits
(gathering the batch, reading the loss) stays as measured, where it was.
--speedup divides kernel and host times (another device on the same
network). Cost models of an average of B bytes over N ranks, with a link
of latency alpha and bandwidth beta (--measured-link: those the trainer's
start-up ping-pong measured, from the trace):

- link:  alpha + B / beta (what DLC_COMM_EMULATE_LINK does, on any N)
- ring:  2 (N - 1) alpha + 2 (N - 1) / N * B / beta
- tree:  2 ceil(log2 N) (alpha + B / beta)
- hierarchical: a ring within each node of --node-size ranks over the
  node's link (--node-gbit, --node-alpha-us), then a ring over the nodes
  on B / node-size bytes, then the node ring again

Given the traces of every rank of one run, it replays them together: an
average goes on the link once the last rank has started it.

    /usr/bin/python3 -m dlc_tools.simulate_scaling TRACE.json [TRACE.rank1.json ...] \
        --model ring --gbit 100 --alpha-us 5 --ranks 8,64,1024
"""
import argparse
import functools
import itertools
import json
import math
import os
import statistics
import sys


def load_steps(path):
    """The steps of the trace at `path`, in time order, each as its events
    in time order: ("kernel", duration), ("host", duration: the host's time
    between kernels and waits), ("start", id, bytes, priority or None),
    ("wait", id); its measured duration; and the time it waited. Times in
    seconds. Ids count up over the run, so a pipelined step's waits name
    the averages its predecessor started."""
    return _load(str(path), os.stat(path).st_mtime_ns)[0]


def _metadata(path):
    """What the trainer recorded about its run ("otherData")."""
    return _load(str(path), os.stat(path).st_mtime_ns)[1]


@functools.lru_cache(maxsize=8)
def _load(path, mtime):
    """The trace at `path` read once: (its steps, its metadata)."""
    with open(path) as f:
        trace = json.load(f)
    events = [e for e in trace["traceEvents"] if e.get("ph") == "X"]
    spans = sorted((e for e in events if e["cat"] == "step" and e["name"] == "step"),
                   key=lambda e: e["ts"])
    steps = []
    for span in spans:
        lo, hi = span["ts"], span["ts"] + span["dur"]
        inside = sorted((e for e in events if lo <= e["ts"] <= hi and
                         e["cat"] in ("kernel", "wait", "comm")), key=lambda e: e["ts"])
        timeline, waited, cursor = [], 0.0, lo
        for e in inside:
            # The host's time since the last kernel or wait ended.
            if e["ts"] > cursor:
                timeline.append(("host", (e["ts"] - cursor) / 1e6))
                cursor = e["ts"]
            if e["cat"] == "comm":
                timeline.append(("start", e["args"]["id"], e["args"]["bytes"],
                                 e["args"].get("priority")))
                continue
            if e["cat"] == "kernel":
                timeline.append(("kernel", e["dur"] / 1e6))
            else:
                timeline.append(("wait", e["args"]["id"]))
                waited += e["dur"] / 1e6
            cursor = max(cursor, e["ts"] + e["dur"])
        if hi > cursor:
            timeline.append(("host", (hi - cursor) / 1e6))
        steps.append((timeline, (hi - lo) / 1e6, waited))
    return steps, trace.get("otherData", {})


def sent_by_priority(path):
    """Whether the trainer sent its averages by priority
    (DLC_COMM_ORDER=priority), as the trace's metadata says."""
    return bool(_metadata(path).get("comm_priority_order"))


def measured_link(path):
    """(alpha seconds, bytes per second) of the link as the trainer's
    start-up ping-pong measured it, from the trace's metadata."""
    data = _metadata(path)
    if "link_alpha_us" not in data:
        raise ValueError("%s records no measured link (a trace of one rank?)" % path)
    return data["link_alpha_us"] * 1e-6, data["link_gbit"] * 1e9 / 8


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


class Link:
    """The network as the replay sees it: averages in flight and the work
    (seconds alone on the link) each has left. "fifo": one after another in
    the order they started; "fair": all at once, each at 1/k of the link
    while k are in flight (concurrent MPI collectives over TCP);
    "priority": the one with the lowest priority number first, then the
    earliest started (what the trainer does with DLC_COMM_ORDER=priority)."""

    def __init__(self, sharing):
        self.sharing, self.time, self.left, self.done = sharing, 0.0, {}, {}
        self.priority = {}

    def start(self, id_, at, work, priority=0):
        self.run(until=at)
        self.time = max(self.time, at)
        self.left[id_] = work
        self.priority[id_] = priority or 0

    def finished(self, id_):
        """When average `id_` is done (the compute starts nothing meanwhile)."""
        while id_ not in self.done:
            self.run(until=math.inf, once=True)
        return self.done[id_]

    def peek_finished(self, id_):
        """When average `id_` would be done if nothing else started."""
        if id_ in self.done:
            return self.done[id_]
        ahead = Link(self.sharing)
        ahead.time, ahead.left, ahead.priority = self.time, dict(self.left), self.priority
        return ahead.finished(id_)

    def run(self, until, once=False):
        """Moves the link on to time `until`, or to its next completion."""
        while self.left:
            if self.sharing == "fair":
                served = list(self.left)
            elif self.sharing == "priority":
                served = [min(self.left, key=lambda i: (self.priority[i], i))]
            else:
                served = [next(iter(self.left))]
            share = min(self.left[i] for i in served)
            finish = self.time + share * len(served)
            if finish > until:
                for i in served:
                    self.left[i] -= (until - self.time) / len(served)
                self.time = until
                return
            for i in served:
                self.left[i] -= share
                if self.left[i] <= 1e-12:
                    del self.left[i]
                    self.done[i] = finish
            self.time = finish
            if once:
                return


def replay(steps, average_seconds, speedup=1.0, sharing="fair"):
    """The seconds each of `steps` (event lists, run one after another)
    takes for its kernels, host time and waits, with each average needing
    average_seconds(bytes) of a link shared as `sharing` says, and kernels
    and host `speedup` times faster than measured. A wait for an average
    started before the first step replayed does not wait."""
    return replay_ranks([steps], average_seconds, speedup, sharing)[0]


class _Rank:
    """One rank's compute track in a replay: its events, the next one, its
    time, and when each of its steps began."""

    def __init__(self, steps):
        self.events = [e for events in steps for e in events + [("end",)]]
        self.next, self.time, self.begins = 0, 0.0, [0.0]

    def done(self):
        return self.next == len(self.events)


def replay_ranks(ranks_steps, average_seconds, speedup=1.0, sharing="fair"):
    """replay() of several ranks at once, one compute track each (their
    traces of one run): an average goes on the link once the last rank has
    started it, so a rank that falls behind holds the others up at their
    waits, as the collective does. The ranks' traces must name the same
    averages. The seconds of each rank's steps, per rank."""
    link, ranks = Link(sharing), [_Rank(s) for s in ranks_steps]
    # Averages by id: the times the ranks started them so far.
    started = {}
    waiting = {}  # rank index -> the average its wait is for

    def on_link(id_):
        return id_ in link.done or id_ in link.left

    while not all(r.done() for r in ranks):
        runnable = [i for i, r in enumerate(ranks) if not r.done() and i not in waiting]
        soonest = min((ranks[i].time for i in runnable), default=math.inf)
        # A waiting rank whose average the link finishes before any other
        # rank's next event (nothing new starts meanwhile) wakes first.
        woken = None
        for i, id_ in waiting.items():
            if on_link(id_):
                at = link.peek_finished(id_)
                if at <= soonest and (woken is None or at < woken[1]):
                    woken = (i, at)
        if woken:
            i, at = woken
            link.run(until=at)
            ranks[i].time = max(ranks[i].time, at)
            del waiting[i]
            continue
        if not runnable:
            raise ValueError("the traces' ranks wait for averages not all of them start")
        i = min(runnable, key=lambda i: ranks[i].time)
        rank = ranks[i]
        event = rank.events[rank.next]
        rank.next += 1
        if event[0] in ("kernel", "host"):
            rank.time += event[1] / speedup
        elif event[0] == "end":
            rank.begins.append(rank.time)
        elif event[0] == "start":
            started.setdefault(event[1], []).append(rank.time)
            if len(started[event[1]]) == len(ranks):
                link.start(event[1], rank.time, average_seconds(event[2]), event[3])
        elif event[1] in started:
            if event[1] in link.done:
                rank.time = max(rank.time, link.done[event[1]])
            else:
                waiting[i] = event[1]
    return [[b - a for a, b in zip(r.begins, r.begins[1:])] for r in ranks]


def predict(path, step, model, ranks, alpha, beta, speedup=1.0, warmup=2, sharing=None,
            **node):
    """(predicted step seconds, one rank's step seconds) for step `step` of
    the trace at `path` on `ranks` ranks: the replay of `warmup` steps
    before it (so that the averages a pipelined step waits for, and the
    link's backlog, are there) and of the step, kernels and host `speedup`
    times faster. `path` may be a list: the traces of every rank of one
    run, replayed together (replay_ranks): the predicted step runs from
    when the last rank ended the step before to when the last rank ends
    this one, and one rank's step is the slowest rank's kernels and host
    time. The link serves as the trainer sent: by priority
    where it did (DLC_COMM_ORDER=priority), and otherwise "fifo" under the
    link model and "fair" under the others, unless `sharing` says."""
    paths = list(path) if isinstance(path, (list, tuple)) else [path]
    traces = [load_steps(p) for p in paths]
    if any(step >= len(steps) for steps in traces):
        shortest = min(range(len(paths)), key=lambda i: len(traces[i]))
        raise ValueError("%s has %d steps; no step %d" % (paths[shortest],
                                                         len(traces[shortest]), step))
    # One rank's step: the slowest rank's kernels and host time, so that
    # what the ranks' difference costs is not counted as communication.
    alone = max(sum(e[1] for e in steps[step][0] if e[0] in ("kernel", "host"))
                for steps in traces) / speedup
    windows = [[s[0] for s in steps[max(0, step - warmup):step + 1]] for steps in traces]
    if not sharing:
        sharing = ("priority" if sent_by_priority(paths[0]) else
                   "fifo" if model == "link" else "fair")
    seconds = replay_ranks(windows, lambda b: cost(model, b, ranks, alpha, beta, **node),
                           speedup, sharing)
    # The step: from when the last rank ended the step before to when the
    # last rank ends this one (a rank ahead of the others waits there, not
    # in its own step's count).
    ends = [list(itertools.accumulate(s)) for s in seconds]
    before = max(e[-2] for e in ends) if len(ends[0]) > 1 else 0.0
    return max(e[-1] for e in ends) - before, alone


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace", nargs="+",
                        help="a rank's trace, or every rank's of one run (replayed together)")
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
    parser.add_argument("--measured-link", action="store_true",
                        help="alpha and beta as the trainer measured them at start-up")
    parser.add_argument("--sharing", choices=["fifo", "fair", "priority"],
                        help="how averages in flight share the link (default: as the "
                             "trainer sent them)")
    parser.add_argument("--speedup", type=float, default=1.0,
                        help="kernels and host this many times faster than traced")
    args = parser.parse_args()
    try:
        count = min(len(load_steps(t)) for t in args.trace)
        steps = ([int(s) for s in args.steps.split(",")] if args.steps
                 else list(range(1, count)) or [0])
        alpha, beta = args.alpha_us * 1e-6, args.gbit * 1e9 / 8
        if args.measured_link:
            alpha, beta = measured_link(args.trace[0])
        if args.speedup <= 0:
            raise ValueError("--speedup must be positive")
        node = {"node_size": args.node_size, "node_alpha": args.node_alpha_us * 1e-6,
                "node_beta": args.node_gbit * 1e9 / 8}
        print("| ranks | step (s) | one rank (s) | efficiency |")
        print("|---:|---:|---:|---:|")
        for ranks in map(int, args.ranks.split(",")):
            results = [predict(args.trace, s, args.model, ranks, alpha, beta,
                               args.speedup, sharing=args.sharing, **node) for s in steps]
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
