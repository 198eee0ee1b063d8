"""Data-parallel training over a real, throttled network on one machine:
two ranks in network namespaces this script makes (a bridge and a veth
pair per rank, addresses from the benchmarking range 198.18.0.0/15,
nothing leaves the machine; removed again at the end), each namespace's
egress held to --gbit by tc's token bucket filter, MPI over TCP between
them (mpirun's launch agent runs each daemon in its namespace).

ResNet-18 and ResNet-50 (torchvision structures, 64 x 64 input, 10
classes, --batch per rank, SGD with momentum 0.9, one thread per rank):
dlc with --overlap=none, backward, backward-late and next-forward (its
buckets chosen by the trainer from the link it measures at start-up; once
more with buckets the compiler chose for --comm-beta set to --gbit), and
PyTorch DistributedDataParallel (gloo, its default 25 MB buckets,
overlapped with backward) on the same network, model, batch and threads.
Next-forward runs a second time with DLC_COMM_ORDER=priority (the
average needed first sent first, the ranks agreeing in rounds). Median
step time after the first, and dlc's seconds per step waiting for
averages. Runs alternate. Each dlc run is traced, and
python/dlc_tools/simulate_scaling.py's prediction of its step (both
ranks' traces replayed together, ring allreduce on 2 ranks over the link
the trainer measured at start-up) is set beside the measured one.

Needs root (ip netns, tc). The kernel here has no netem, so the link adds
no latency of its own beyond the veth's.

    /usr/bin/python3 bench/comm/throttled.py [--models resnet18,resnet50] [--batch 32]
        [--gbit 1] [--runs 3] [--rows none,next-forward,...] [--write docs/benchmarks.md]
"""
import argparse
import datetime
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from report import ROOT, machine, overlap_trainers, publish, trainer_summary  # noqa: E402

sys.path.insert(0, str(ROOT / "python"))
from dlc_tools import simulate_scaling as sim  # noqa: E402

SIZE, CLASSES, STEPS = 64, 10, 8
NAMESPACES = ["dlc-bench-0", "dlc-bench-1"]
BRIDGE = "dlc-bench-br"
SUBNET = "198.18.0.%d"
MODES = ["none", "backward", "backward-late", "next-forward"]
# What each row runs: a trainer compiled with --overlap, and its environment.
RUNS = {**{m: (m, ()) for m in MODES},
        "next-forward, buckets for --comm-beta": ("next-forward-told", ()),
        "next-forward, by priority": ("next-forward", ("DLC_COMM_ORDER=priority",))}
# --rows names them so (the rows' own names hold commas).
ROW_FLAGS = {**{m: m for m in MODES}, "next-forward-told": "next-forward, buckets for --comm-beta",
             "next-forward-priority": "next-forward, by priority"}


def sh(*args, check=True):
    return subprocess.run([str(a) for a in args], check=check, capture_output=True, text=True)


class Network:
    """The namespaces, bridge and throttles; removed on exit."""

    def __init__(self, gbit):
        self.gbit = gbit

    def __enter__(self):
        self.remove()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", SUBNET % 1 + "/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for i, ns in enumerate(NAMESPACES):
            sh("ip", "netns", "add", ns)
            veth = "dlc-bench-v%d" % i
            sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", veth, "master", BRIDGE)
            sh("ip", "link", "set", veth, "up")
            sh("ip", "-n", ns, "addr", "add", SUBNET % (i + 2) + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf",
               "rate", "%gGbit" % self.gbit, "burst", "128kb", "latency", "50ms")
        time.sleep(2)  # let the links come up before mpirun's daemons use them
        return self

    def __exit__(self, *exc):
        self.remove()

    @staticmethod
    def remove():
        """What an earlier run left (one stopped before its exit) too."""
        for i, ns in enumerate(NAMESPACES):
            sh("ip", "netns", "del", ns, check=False)
            sh("ip", "link", "del", "dlc-bench-v%d" % i, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)


def dlc_run(exe, x, y, tmp, keep=None, env=()):
    """(median step, wait per step, the step simulate_scaling predicts from
    the run's traces with the ring model on the link the trainer measured,
    the link, allreduces per step). `keep`: a path to copy the traces to,
    ".rank<N>" before its suffix."""
    agent = tmp / "nsagent"
    agent.write_text('#!/bin/sh\nhost=$1; shift\nexec ip netns exec "$host" /bin/sh -c "$*"\n')
    agent.chmod(0o755)
    hosts = tmp / "hosts"
    hosts.write_text("".join("%s slots=1\n" % ns for ns in NAMESPACES))
    command = (
        ["mpirun", "--allow-run-as-root", "--hostfile", str(hosts), "-np", "2",
         "--mca", "plm_rsh_agent", str(agent), "--mca", "plm_rsh_no_tree_spawn", "1",
         # One daemon launch at a time: with two `ip netns exec` at once,
         # one daemon now and then never started.
         "--mca", "plm_rsh_num_concurrent", "1",
         # Each namespace looks like a node of its own, where mpirun would
         # bind its rank to core 0: both ranks on one core. Unbound, as
         # the DDP workers are.
         "--bind-to", "none", *[a for kv in env for a in ("-x", kv)],
         "--mca", "oob_tcp_if_include", "198.18.0.0/24", "--mca", "btl", "tcp,self",
         "--mca", "btl_tcp_if_include", "198.18.0.0/24", "-x", "OMP_NUM_THREADS=1",
         str(exe), "--train-x", str(x), "--train-y", str(y), "--steps", str(STEPS),
         "--epochs", "100", "--log-every", "0", "--threads", "1",
         "--trace", str(tmp / "trace.json")])
    # mpirun's launch over the namespaces now and then never completes:
    # give it a second try.
    for attempt in range(3):
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=True,
                                    cwd=tmp, timeout=150)
            break
        except subprocess.TimeoutExpired:
            print("mpirun did not finish; trying again", flush=True)
            subprocess.run(["pkill", "-9", "-f", "orted"], check=False)
            if attempt == 2:
                raise
    summary = trainer_summary(result.stdout)
    traces = [tmp / ("trace.rank%d.json" % rank) for rank in range(len(NAMESPACES))]
    if keep:
        for trace in traces:
            shutil.copy(trace, str(keep).replace(".json", trace.suffixes[0] + ".json"))
    # Both ranks replayed together: one that falls behind holds the other up.
    alpha, beta = sim.measured_link(traces[0])
    predicted = statistics.median(sim.predict(traces, s, "ring", 2, alpha, beta)[0]
                                  for s in range(2, STEPS))
    return (summary["step_seconds"], summary["comm_wait_seconds"] / summary["steps"],
            predicted, (summary["link_alpha_us"], summary["link_gbit"]),
            summary["allreduces_per_step"])


DDP_WORKER = r'''
import statistics, sys, time
import numpy as np, torch, torch.distributed as dist, torchvision
rank, master, x_path, y_path, steps, batch, name = sys.argv[1:8]
rank, steps, batch = int(rank), int(steps), int(batch)
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method="tcp://%s:29517" % master, rank=rank, world_size=2)
torch.manual_seed(0)
model = torch.nn.parallel.DistributedDataParallel(
    getattr(torchvision.models, name)(num_classes=10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.from_numpy(np.load(x_path)); y = torch.from_numpy(np.load(y_path))
times = []
for step in range(steps):
    first = (step * 2 + rank) * batch % len(x)
    xb, yb = x[first:first + batch], y[first:first + batch]
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(xb), yb).backward()
    optimizer.step()
    times.append(time.perf_counter() - start)
if rank == 0:
    print(statistics.median(times[1:]))
dist.destroy_process_group()
'''


def ddp_run(name, batch, x, y, tmp):
    worker = tmp / "ddp_worker.py"
    worker.write_text(DDP_WORKER)
    master = SUBNET % 2
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="eth0")
    procs = [subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", str(worker),
                               str(rank), master, str(x), str(y), str(STEPS), str(batch), name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for rank, ns in enumerate(NAMESPACES)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        if p.returncode:
            raise RuntimeError("DDP worker failed:\n" + err[-2000:])
    return float(outputs[0][0].strip().splitlines()[-1])


def measure(name, batch, gbit, runs, tmp, rows, traces=None):
    """Per row of `rows` (and "ddp"): the median step and wait over `runs`."""
    compiled_modes = sorted({RUNS[r][0] for r in rows} & set(MODES) | {"none"})
    exes, x, y = overlap_trainers(tmp, name, SIZE, CLASSES, batch, 2 * batch * STEPS,
                                  compiled_modes, "--lr", "0.01")
    if any(RUNS[r][0] == "next-forward-told" for r in rows):
        exes["next-forward-told"] = tmp / (name + "-next-forward-told")
        subprocess.run([ROOT / "build" / "bin" / "dlc", tmp / (name + ".onnx"), "-o",
                        exes["next-forward-told"], "--batch", str(batch), "--momentum", "0.9",
                        "--lr", "0.01", "--overlap=next-forward", "--comm-beta", str(gbit)],
                       check=True)
    results = {m: {"step": [], "wait": [], "predicted": [], "alpha": [], "gbit": [],
                   "allreduces": []} for m in rows}
    results["ddp"] = {"step": []}
    for run in range(runs):
        for mode in rows:
            compiled, env = RUNS[mode]
            keep = traces and pathlib.Path(traces) / ("%s-%s-%d.json" % (name, mode, run))
            step, wait, predicted, (alpha, gbit), allreduces = dlc_run(
                exes[compiled], x, y, tmp, keep, env)
            for key, value in [("step", step), ("wait", wait), ("predicted", predicted),
                               ("alpha", alpha), ("gbit", gbit), ("allreduces", allreduces)]:
                results[mode][key].append(value)
            print(name, run, mode, step, wait, predicted, alpha, gbit, flush=True)
        results["ddp"]["step"].append(ddp_run(name, batch, x, y, tmp))
        print(name, run, "ddp", results["ddp"]["step"][-1], flush=True)
    return {k: {m: statistics.median(v) for m, v in r.items()} for k, r in results.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="resnet18,resnet50")
    parser.add_argument("--batch", type=int, default=32, help="per rank")
    parser.add_argument("--gbit", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write")
    parser.add_argument("--traces", help="keep the ranks' traces of each dlc run in this folder")
    parser.add_argument("--rows", default=",".join(ROW_FLAGS),
                        help="the dlc rows to run, comma-separated (none is always run: "
                        "the hidden share is taken against it); default: all of %(default)s")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("throttled.py: error: needs root (ip netns, tc)")
    names = args.models.split(",")
    unknown = [r for r in args.rows.split(",") if r not in ROW_FLAGS]
    if unknown:
        sys.exit("throttled.py: error: unknown --rows %s (known: %s)"
                 % (",".join(unknown), ",".join(ROW_FLAGS)))
    rows = ["none"] + [ROW_FLAGS[r] for r in args.rows.split(",") if r != "none"]
    with tempfile.TemporaryDirectory() as tmp, Network(args.gbit):
        medians = {name: measure(name, args.batch, args.gbit, args.runs, pathlib.Path(tmp),
                                 rows, args.traces)
                   for name in names}
    # One section per batch (32, the default, keeps the heading it had).
    heading = "## Data parallelism over a throttled network (2 ranks, network namespaces%s)" % (
        "" if args.batch == 32 else ", batch %d" % args.batch)
    rows_flag = "" if args.rows == ",".join(ROW_FLAGS) else " --rows " + args.rows
    lines = [heading, "",
             "- Command: `bench/comm/throttled.py --models %s --batch %d --gbit %g --runs %d%s`"
             % (args.models, args.batch, args.gbit, args.runs, rows_flag),
             "- Machine: %s; 2 ranks of one thread each, each in a network namespace of its "
             "own, egress limited to %g Gbit/s by tc (tbf; this kernel has no netem, so no "
             "added latency), MPI over TCP" % (machine(), args.gbit),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- Models: torchvision structures, %dx%d input, %d classes, batch %d per rank, "
             "SGD with momentum 0.9; %d steps a run, %d runs alternating, medians. Anchor: "
             "PyTorch %s DistributedDataParallel (gloo, default buckets) on the same "
             "namespaces. Hidden: the share of --overlap=none's wait for averages that the "
             "mode no longer waits." % (SIZE, SIZE, CLASSES, args.batch, STEPS, args.runs,
                                        __import__("torch").__version__),
             ""]
    for name in names:
        median = medians[name]
        ddp = median["ddp"]["step"]
        none = median["none"]
        lines += ["| %s | step | waiting for averages per step | hidden | step / DDP's "
                  "| gain over none | allreduces per step |" % name,
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for mode in rows:
            m = median[mode]
            lines.append("| dlc --overlap=%s | %.3f s | %.3f s | %.0f%% | %.2f | %.2fx | %.0f |"
                         % (mode, m["step"], m["wait"], 100 * (1 - m["wait"] / none["wait"]),
                            m["step"] / ddp, none["step"] / m["step"], m["allreduces"]))
        lines += ["| PyTorch DDP | %.3f s | | | 1.00 | | |" % ddp, ""]
        # Where the compute is shorter than the averaging, the link bounds
        # what any schedule hides (roughly: fewer buckets shorten it).
        cover = (none["step"] - none["wait"]) / none["wait"]
        lines += ["%s: the step without its wait (--overlap=none's step less its wait) "
                  "lasts %.0f%% of none's wait for averages; below 100%%, the link rather "
                  "than the schedule bounds the share hidden (fewer, larger buckets shorten "
                  "the averaging a little)." % (name, 100 * cover), ""]
        lines += ["%s, the step `simulate_scaling.py` predicts from each run's traces (both "
                  "ranks replayed together, ring "
                  "allreduce on 2 ranks, the link the trainer's start-up ping-pong measured: "
                  "median %.0f us, %.3g Gbit/s):" % (
                      name, statistics.median(median[m]["alpha"] for m in rows),
                      statistics.median(median[m]["gbit"] for m in rows)), "",
                  "| --overlap | measured step | predicted | predicted / measured |",
                  "|---|---:|---:|---:|"]
        for mode in rows:
            m = median[mode]
            lines.append("| %s | %.3f s | %.3f s | %.3f |" % (
                mode, m["step"], m["predicted"], m["predicted"] / m["step"]))
        lines.append("")
    lines += ["The seed's gain of overlapped over conventional exchange: 1.71x (AlexNet, "
              "64 GPUs).", ""]
    publish("\n".join(lines), args.write)


if __name__ == "__main__":
    main()
