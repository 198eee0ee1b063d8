"""Gradient averaging overlapped with the backward pass, on an emulated
link: ResNet-18 (torchvision structure, 64 x 64 input, 10 classes, batch 8
per rank) on 2 ranks of this machine, one thread each, the gradient
averages held to an emulated link that carries them one after another,
each taking alpha + bits / rate (DLC_COMM_EMULATE_LINK, the trainer's test
aid: a stand-in for the throttled network of network namespaces that
bench/comm will use).

For --overlap=none (each average waited for at once) and
--overlap=backward (dlc's default): the median step time and the seconds
per step rank 0 waited for averages (exposed communication). Hidden: the
share of none's waiting that backward does not wait. Runs alternate. With
--write, the last run of each mode also writes its traces (--trace), drawn
by dlc_tools.trace_report into docs/images/comm-resnet18-<mode>.svg.

    /usr/bin/python3 bench/comm_overlap.py [--link 100:2] [--runs 3] [--write docs/benchmarks.md]
"""
import argparse
import datetime
import os
import statistics
import pathlib
import subprocess
import sys
import tempfile

from report import ROOT, machine, overlap_trainers, publish, trainer_summary

SIZE, CLASSES, BATCH, RANKS, STEPS = 64, 10, 8, 2, 12
MODES = ["none", "backward"]


def train(exe, x, y, link, trace=None):
    env = dict(os.environ, DLC_COMM_EMULATE_LINK=link, OMP_NUM_THREADS="1")
    result = subprocess.run(
        ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(RANKS),
         "-x", "DLC_COMM_EMULATE_LINK", "-x", "OMP_NUM_THREADS", str(exe),
         "--train-x", str(x), "--train-y", str(y), "--steps", str(STEPS), "--epochs", "100",
         "--log-every", "0", "--threads", "1"] + (["--trace", str(trace)] if trace else []),
        capture_output=True, text=True, env=env, check=True)
    summary = trainer_summary(result.stdout)
    return summary["step_seconds"], summary["comm_wait_seconds"] / summary["steps"]


def draw(tmp, mode):
    """The traces of `mode`'s run as docs/images/comm-resnet18-<mode>.svg."""
    traces = [str(tmp / ("trace-%s.rank%d.json" % (mode, r))) for r in range(RANKS)]
    subprocess.run([sys.executable, "-m", "dlc_tools.trace_report", *traces, "--svg",
                    str(ROOT / "docs" / "images" / ("comm-resnet18-%s.svg" % mode))],
                   check=True, cwd=ROOT / "python", stdout=subprocess.DEVNULL,
                   env=dict(os.environ, PYTHONPATH=str(ROOT / "python")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--link", default="100:2", help="ALPHA_US:GBIT_PER_S")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write")
    args = parser.parse_args()
    results = {mode: {"step": [], "wait": []} for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        exes, x, y = overlap_trainers(tmp, "resnet18", SIZE, CLASSES, BATCH,
                                      RANKS * BATCH * 4, MODES)
        for run in range(args.runs):
            for mode in MODES:
                last = run == args.runs - 1 and args.write
                trace = tmp / ("trace-%s.json" % mode) if last else None
                step, wait = train(exes[mode], x, y, args.link, trace)
                if trace:
                    draw(tmp, mode)
                results[mode]["step"].append(step)
                results[mode]["wait"].append(wait)
                print(run, mode, step, wait, flush=True)
    median = {mode: {k: statistics.median(v) for k, v in r.items()}
              for mode, r in results.items()}
    alpha, rate = args.link.split(":")
    lines = ["## Gradient averaging overlapped with backward (emulated link, CPU)", "",
             "- Command: `bench/comm_overlap.py --link %s --runs %d`" % (args.link, args.runs),
             "- Machine: %s; %d ranks of one thread each on it" % (machine(), RANKS),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- Model: ResNet-18 (torchvision), %dx%d input, %d classes, batch %d per rank, "
             "SGD with momentum; %d steps a run, %d runs alternating, medians. Link: "
             "`DLC_COMM_EMULATE_LINK=%s` (the averages cross it one after another, each "
             "taking %s us + its bits at %s Gbit/s; a test aid, not a real network)."
             % (SIZE, SIZE, CLASSES, BATCH, STEPS, args.runs, args.link, alpha, rate),
             "",
             "| --overlap | step | waiting for averages per step | hidden |",
             "|---|---:|---:|---:|"]
    none_wait = median["none"]["wait"]
    for mode in MODES:
        m = median[mode]
        hidden = 1 - m["wait"] / none_wait if none_wait > 0 else float("nan")
        lines.append("| %s | %.3f s | %.3f s | %.0f%% |" % (mode, m["step"], m["wait"],
                                                           100 * hidden))
    lines += ["", "Step time with --overlap=backward: %.2f of --overlap=none's. "
              "A step of both ranks from the last run of each (`--trace`, drawn by "
              "`dlc_tools.trace_report`; kernels green, waits red, averages in flight blue):"
              % (median["backward"]["step"] / median["none"]["step"]), "",
              "![--overlap=none](images/comm-resnet18-none.svg)", "",
              "![--overlap=backward](images/comm-resnet18-backward.svg)", ""]
    publish("\n".join(lines), args.write)


if __name__ == "__main__":
    main()
