"""Scaling beyond one machine, simulated (python/dlc_tools/simulate_scaling.py)
from steps measured here.

1. The check against measurement on the emulated link: ResNet-18 (64 x 64,
   batch 8 per rank) on 2 ranks over DLC_COMM_EMULATE_LINK (100 us,
   2 Gbit/s), each --overlap: the median of the traced steps against the
   replay of the same steps of each run's own traces with the link model. (bench/comm/throttled.py
   checks it against the real throttled network.)
2. ResNet-50 and AlexNet (224 x 224, 1000 classes, batch 8 per rank), each
   traced on 2 ranks of this machine (one thread each) with --overlap=none,
   backward and next-forward, replayed on 8 to 1024 ranks with ring
   allreduce over 10, 25, 100 and 400 Gbit/s links (alpha 5 us), and
   hierarchically (nodes of 8 over a 2400 Gbit/s node link, 1 us) at
   100 Gbit/s: scaling efficiency (one rank's step over N ranks', batch per
   rank fixed). The compute times are this CPU's, so the efficiencies are
   those of a cluster of such machines.
3. The seed's AlexNet experiment (64 ranks, conventional against
   overlapped exchange) at 10 Gbit/s, with the compute 0.5 to 10 times as
   fast as this CPU's (--speedup: another device on the same network):
   overlap gains most where compute and communication take about as long.

    /usr/bin/python3 bench/scaling.py [--write docs/benchmarks.md]
"""
import argparse
import datetime
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from report import ROOT, machine, overlap_trainers, publish, trainer_summary

sys.path.insert(0, str(ROOT / "python"))
from dlc_tools import simulate_scaling as sim  # noqa: E402

RANKS = [8, 16, 64, 256, 1024]
GBITS = [10, 25, 100, 400]
MODES = ["none", "backward", "next-forward"]
SPEEDUPS = [0.5, 1, 2, 4, 10]
# Steps a run; the first two only lead into the replayed ones.
STEPS = 6
# The check's runs: one epoch, whose last step also completes what is
# carried; the steps between compared one by one.
CHECK_STEPS = 10


def run(exe, x, y, steps, trace, link=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    forward = ["-x", "OMP_NUM_THREADS"]
    if link:
        env["DLC_COMM_EMULATE_LINK"] = link
        forward += ["-x", "DLC_COMM_EMULATE_LINK"]
    result = subprocess.run(
        ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", *forward, str(exe),
         "--train-x", str(x), "--train-y", str(y), "--steps", str(steps), "--epochs", "100",
         "--log-every", "0", "--threads", "1", "--trace", str(trace)],
        capture_output=True, text=True, env=env, check=True)
    return trainer_summary(result.stdout)


def replayed(trace, model, ranks, gbit, alpha_us=5.0, speedup=1.0, sharing=None, **node):
    results = [sim.predict(trace, s, model, ranks, alpha_us * 1e-6, gbit * 1e9 / 8, speedup,
                           sharing=sharing, **node) for s in range(2, STEPS)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write")
    args = parser.parse_args()
    lines = ["## Scaling beyond one machine, simulated", "",
             "- Command: `bench/scaling.py`",
             "- Machine: %s; traces of 2 ranks of one thread each" % machine(),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- How: `python/dlc_tools/simulate_scaling.py` replays each measured step "
             "(`--trace`, both ranks' traces together: an average goes on the link once "
             "both have started it) after the two before it, with its compiled schedule, "
             "kernel times and host time, each average taking the cost model's time of a "
             "link shared by the averages in flight (one after another in the order they "
             "started under the emulated link).", ""]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        # 1. Prediction against measurement on the emulated link.
        exes, x, y = overlap_trainers(tmp, "resnet18", 64, 10, 8, 2 * 8 * CHECK_STEPS, MODES)
        compared = range(2, CHECK_STEPS - 1)
        lines += ["Check against measurement: ResNet-18, 64x64, batch 8 per rank, 2 ranks, "
                  "`DLC_COMM_EMULATE_LINK=100:2`, one epoch of %d steps, the link model on "
                  "each run's own trace; medians of steps %d to %d as traced and as "
                  "replayed:" % (CHECK_STEPS, compared[0], compared[-1]), "",
                  "| --overlap | measured step | predicted | predicted / measured |",
                  "|---|---:|---:|---:|"]
        for mode in MODES:
            run(exes[mode], x, y, CHECK_STEPS, tmp / ("r18-%s.json" % mode), link="100:2")
            trace = [tmp / ("r18-%s.rank%d.json" % (mode, r)) for r in range(2)]
            measured = statistics.median(sim.load_steps(trace[0])[s][1] for s in compared)
            predicted = statistics.median(
                sim.predict(trace, s, "link", 2, 100e-6, 2e9 / 8)[0] for s in compared)
            lines.append("| %s | %.4f s | %.4f s | %.3f |" % (
                mode, measured, predicted, predicted / measured))
            print(lines[-1], flush=True)
        # 2. ResNet-50 and AlexNet on 8 to 1024 ranks.
        node = {"node_size": 8, "node_alpha": 1e-6, "node_beta": 2400e9 / 8}
        for name in ["resnet50", "alexnet"]:
            exes, x, y = overlap_trainers(tmp, name, 224, 1000, 8, 2 * 8 * STEPS, MODES)
            traces = {}
            for mode in MODES:
                run(exes[mode], x, y, STEPS, tmp / ("%s-%s.json" % (name, mode)))
                traces[mode] = [tmp / ("%s-%s.rank%d.json" % (name, mode, r)) for r in range(2)]
            header = ["--overlap", "ranks"] + ["%d Gbit/s" % g for g in GBITS] + \
                     ["hierarchical, 100 Gbit/s"]
            _, alone = replayed(traces["backward"], "ring", 1, 100)
            lines += ["", "%s (224x224, batch 8 per rank; one rank's step %.2f s): "
                      "scaling efficiency, ring allreduce unless said" % (name, alone), "",
                      "| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
            for mode in MODES:
                for ranks in RANKS:
                    row = [mode, str(ranks)]
                    for gbit in GBITS:
                        step, one = replayed(traces[mode], "ring", ranks, gbit)
                        row.append("%.0f%%" % (100 * one / step))
                    step, one = replayed(traces[mode], "hierarchical", ranks, 100, **node)
                    row.append("%.0f%%" % (100 * one / step))
                    lines.append("| " + " | ".join(row) + " |")
                    print(lines[-1], flush=True)
            if name == "alexnet":
                # 3. The seed's experiment, on slower and faster devices.
                lines += ["", "The seed's AlexNet experiment in shape: 64 ranks, ring allreduce "
                          "over 10 Gbit/s, the step with --overlap=none (conventional) over "
                          "the overlapped one's (the seed: 1.71x), with the compute this "
                          "many times as fast as here; the last column replays next-forward's "
                          "trace as if its averages went out by priority "
                          "(DLC_COMM_ORDER=priority, `--sharing priority`):", "",
                          "| compute speed-up | one rank's step | none | backward | "
                          "next-forward | none / backward | none / next-forward | "
                          "none / next-forward, sent by priority |",
                          "|---:|---:|---:|---:|---:|---:|---:|---:|"]
                for speedup in SPEEDUPS:
                    steps = {m: replayed(traces[m], "ring", 64, 10, speedup=speedup)
                             for m in MODES}
                    by_priority, _ = replayed(traces["next-forward"], "ring", 64, 10,
                                              speedup=speedup, sharing="priority")
                    lines.append("| %gx | %.3f s | %.3f s | %.3f s | %.3f s | %.2fx | %.2fx | "
                                 "%.2fx |" % (
                                     speedup, steps["none"][1], steps["none"][0],
                                     steps["backward"][0], steps["next-forward"][0],
                                     steps["none"][0] / steps["backward"][0],
                                     steps["none"][0] / steps["next-forward"][0],
                                     steps["none"][0] / by_priority))
                    print(lines[-1], flush=True)
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
