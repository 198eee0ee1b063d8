#!/usr/bin/env python3
"""Training memory and step time on the CPU: torchvision models (ResNet-50
and VGG-16 by default; 224 x 224, 1000 classes, random weights and data,
SGD with momentum).

For each model: dlc's arena and the trainer's peak RSS (whole process,
getrusage) over --steps steps, and what lies outside the arena (peak RSS
minus the arena: library buffers, data, code; of it, the library workspace
the compiler did not plan); the steady-state step time of dlc against a
baseline dlc (another build, --baseline-dlc, e.g. from an earlier
revision) in the same run, each as (wall time of --steps steps - wall time
of 1 step) / (--steps - 1), medians of --repeats; and, with --torch,
PyTorch eager's peak RSS and median step time (after the first) on the
same model, batch and optimizer (Debian's torch 1.13; with --torch2 also
torch 2.x from PyPI, pinned in .venv by bench/setup-venv.sh; ratios are to
the lower of the PyTorch figures). --memory-only runs each
system once and reports memory alone; --memory-budget compiles dlc's
trainers with that budget.

Usage: bench/memory.py [--models resnet50,vgg16] [--batch 16] [--steps 4]
                       [--repeats 3] [--baseline-dlc PATH]
                       [--baseline-label TEXT] [--torch] [--torch2] [--memory-only]
                       [--memory-budget BYTES] [--write FILE.md]
"""
import argparse
import datetime
import json
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from report import export_torchvision, machine, publish  # noqa: E402

SIZE, CLASSES = 224, 1000
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def run_trainer(trainer, data, steps):
    """(wall seconds, the trainer's JSON summary)."""
    start = time.perf_counter()
    out = subprocess.run([str(trainer), "--train-x", str(data[0]), "--train-y", str(data[1]),
                          "--steps", str(steps), "--log-every", "0", "--no-shuffle"],
                         check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    return seconds, json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def step_seconds(trainer, data, steps, repeats):
    """Median over repeats of (T(steps) - T(1)) / (steps - 1), and the
    summary of the last long run."""
    times, summary = [], None
    for _ in range(repeats):
        one, _ = run_trainer(trainer, data, 1)
        many, summary = run_trainer(trainer, data, steps)
        times.append((many - one) / (steps - 1))
    return statistics.median(times), summary


def torch_worker(model_name, batch, steps):
    """Runs in a subprocess: PyTorch eager training, its peak RSS and the
    median time of a step after the first."""
    import torch
    import torchvision
    torch.manual_seed(0)
    model = getattr(torchvision.models, model_name)(num_classes=CLASSES)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    # The whole dataset in memory and a new batch each step, as dlc's trainer
    # holds and reads it.
    images = torch.rand(batch * steps, 3, SIZE, SIZE)
    labels = torch.randint(0, CLASSES, (batch * steps,))
    times = []
    for step in range(steps):
        x, y = images[step * batch:(step + 1) * batch], labels[step * batch:(step + 1) * batch]
        start = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"torch": torch.__version__,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "step_seconds": statistics.median(times[1:]) if steps > 1 else None}))


def torch_run(python, model_name, batch, steps):
    """torch_worker's summary, run by `python` (Debian's or the venv's)."""
    out = subprocess.run([str(python), __file__, "--torch-worker", model_name,
                          "--batch", str(batch), "--steps", str(steps)],
                         check=True, capture_output=True, text=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    print(model_name, "torch", summary, flush=True)
    return summary


def mb(n):
    return "%.0f MB" % (n / 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet50,vgg16")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-dlc")
    parser.add_argument("--baseline-label", default="another dlc build",
                        help="what the baseline is, for the report")
    parser.add_argument("--torch", action="store_true", help="PyTorch eager, Debian's 1.13")
    parser.add_argument("--torch2", action="store_true",
                        help="PyTorch eager 2.x from .venv (bench/setup-venv.sh)")
    parser.add_argument("--memory-only", action="store_true",
                        help="one run of --steps steps per system: peak RSS only, no step times")
    parser.add_argument("--memory-budget",
                        help="compile dlc's trainers with this --memory-budget")
    parser.add_argument("--write")
    parser.add_argument("--torch-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker, args.batch, args.steps)
    torches = ([sys.executable] if args.torch else []) + ([VENV_PYTHON] if args.torch2 else [])
    if args.torch2 and not VENV_PYTHON.exists():
        sys.exit("error: %s is missing; run bench/setup-venv.sh first" % VENV_PYTHON)

    dlcs = {"dlc": ROOT / "build" / "bin" / "dlc"}
    if args.baseline_dlc:
        dlcs["baseline"] = pathlib.Path(args.baseline_dlc)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        rng = np.random.RandomState(0)
        data = (tmp / "x.npy", tmp / "y.npy")
        np.save(data[0], rng.rand(args.batch * args.steps, 3, SIZE, SIZE).astype(np.float32))
        np.save(data[1], rng.randint(0, CLASSES, args.batch * args.steps).astype(np.int64))
        for name in args.models.split(","):
            onnx = tmp / (name + ".onnx")
            export_torchvision(name, onnx, SIZE, CLASSES, args.batch)
            row = {"model": name}
            for label, dlc in dlcs.items():
                trainer = tmp / ("%s-%s" % (name, label))
                budget = ["--memory-budget", args.memory_budget] \
                    if args.memory_budget and label == "dlc" else []
                subprocess.run([str(dlc), str(onnx), "-o", str(trainer), "--batch", str(args.batch),
                                "--lr", "0.01", "--momentum", "0.9", *budget], check=True)
                row[label] = (None, run_trainer(trainer, data, args.steps)[1]) \
                    if args.memory_only else step_seconds(trainer, data, args.steps, args.repeats)
                print(name, label, row[label], flush=True)
            row["torch"] = [torch_run(python, name, args.batch, args.steps)
                            for python in torches]
            rows.append(row)

    command = "bench/memory.py --models %s --batch %d --steps %d%s%s%s%s%s" % (
        args.models, args.batch, args.steps,
        " --memory-only" if args.memory_only else " --repeats %d" % args.repeats,
        " --baseline-dlc PATH" if args.baseline_dlc else "", " --torch" if args.torch else "",
        " --torch2" if args.torch2 else "",
        " --memory-budget " + args.memory_budget if args.memory_budget else "")
    heading = "## Training memory on the CPU, batch %d" % args.batch
    if args.memory_budget:
        heading += ", --memory-budget " + args.memory_budget
    lines = [heading, "",
             "- Command: `%s`" % command,
             "- Machine: %s" % machine(),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- Models: torchvision, %dx%d input, %d classes, random weights and data, batch %d, "
             "SGD with momentum 0.9; peak RSS of the whole trainer process over %d steps; "
             "dlc's trainer and PyTorch both hold the %d images of those steps in memory"
             % (SIZE, SIZE, CLASSES, args.batch, args.steps, args.batch * args.steps)]
    if args.baseline_dlc:
        lines.append("- Baseline: %s%s" % (args.baseline_label, "" if args.memory_only else
                     "; step times are medians of %d runs, in the same run" % args.repeats))
    if args.memory_only:
        lines.append("- Memory only: one run of %d steps per system, no step times" % args.steps)
    if torches:
        lines.append("- Ratios: dlc's peak RSS against the lower PyTorch peak%s"
                     % ("" if args.memory_only else
                        ", dlc's step against the faster PyTorch step"))
    lines.append("")
    header = "| model | arena | peak RSS | peak RSS - arena | unplanned workspace |"
    rule = "|---|---:|---:|---:|---:|"
    timed = not args.memory_only
    if args.baseline_dlc:
        header += " baseline arena | baseline peak RSS |"
        rule += "---:|---:|"
        if timed:
            header += " step (s) | baseline step (s) | ratio |"
            rule += "---:|---:|---:|"
    if torches:
        header += " PyTorch peak RSS | peak RSS / PyTorch |"
        rule += "---:|---:|"
        if timed:
            header += " PyTorch step (s) | step / PyTorch |"
            rule += "---:|---:|"
    lines += [header, rule]
    for row in rows:
        seconds, s = row["dlc"]
        cells = [row["model"], mb(s["arena_bytes"]), mb(s["peak_rss_bytes"]),
                 mb(s["peak_rss_bytes"] - s["arena_bytes"]),
                 mb(s.get("library_workspace_bytes", 0))]
        if args.baseline_dlc:
            base_seconds, b = row["baseline"]
            cells += [mb(b["arena_bytes"]), mb(b["peak_rss_bytes"])]
            if timed:
                cells += ["%.2f" % seconds, "%.2f" % base_seconds,
                          "%.2f" % (seconds / base_seconds)]
        if torches:
            # Against the lower PyTorch peak, and the faster PyTorch step.
            ts = row["torch"]
            cells += [", ".join("%s (torch %s)" % (mb(t["peak_rss_bytes"]), t["torch"])
                                for t in ts),
                      "%.2f" % (s["peak_rss_bytes"] / min(t["peak_rss_bytes"] for t in ts))]
            if timed:
                fastest = min(t["step_seconds"] for t in ts)
                cells += [", ".join("%.2f" % t["step_seconds"] for t in ts),
                          "%.2f" % (seconds / fastest)]
        lines.append("| " + " | ".join(cells) + " |")
    report = "\n".join(lines) + "\n"
    publish(report, args.write)


if __name__ == "__main__":
    main()
