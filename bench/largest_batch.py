#!/usr/bin/python3
"""The largest batch that trains in a fixed memory limit (8 GiB by default):
dlc with its plan, dlc with --memory-budget (recomputation), the naive plan
(every buffer its own bytes, as Caffe allocated), and PyTorch eager.

A batch fits when the whole process's peak RSS over --steps training steps
(224 x 224, 1000 classes, SGD with momentum 0.9, the batches of those steps
held in memory) stays within the limit:
  - dlc: the batch is found from the compiled plan (arena plus what the
    trainer holds beside it: --outside bytes and the data), then the trainer
    is built and run at that batch, and its measured peak RSS is what the
    table shows (a batch whose run exceeds the limit is searched down again);
  - dlc with recomputation: the same, compiling with --memory-budget set to
    the limit less what lies beside the arena;
  - naive: naive_bytes of the report alone within the limit (nothing else
    counted, in naive's favour); compile only, as naive is a plan;
  - PyTorch (--torch: Debian's 1.13, --torch2: 2.x in .venv): searched by
    running it, in steps of --resolution images.

    bench/largest_batch.py [--models resnet50,vgg16] [--limit 8G] [--steps 2]
                           [--torch] [--torch2] [--resolution 4]
                           [--write docs/benchmarks.md]
"""
import argparse
import datetime
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from memory import VENV_PYTHON, run_trainer, torch_run  # noqa: E402
from report import export_torchvision, machine, publish  # noqa: E402

SIZE, CLASSES = 224, 1000
IMAGE_BYTES = 3 * SIZE * SIZE * 4 + 8  # float32 pixels and an int64 label
DLC = ROOT / "build" / "bin" / "dlc"


def parse_bytes(text):
    """'8G' -> 8 GiB, with dlc's suffixes (powers of 1024)."""
    match = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError("expected a byte count such as 8G, got %r" % text)
    return int(match.group(1)) * 1024 ** " KMG".index(match.group(2) or " ")


def largest(fits, guess, resolution=1):
    """The largest multiple of `resolution` for which fits() holds (fits is
    true up to some batch, false above it): gallop from `guess`, then
    bisect. 0 when not even `resolution` fits."""
    seen = {}

    def check(batch):
        if batch not in seen:
            seen[batch] = fits(batch)
        return seen[batch]

    batch = max(resolution, guess // resolution * resolution)
    step = max(resolution, batch // 16 // resolution * resolution)
    if check(batch):
        lo = batch
        while check(lo + step):
            lo, step = lo + step, step * 2
        hi = lo + step
    else:
        hi = batch
        while hi - step >= resolution and not check(hi - step):
            hi, step = hi - step, step * 2
        lo = hi - step
        if lo < resolution:
            if not check(resolution):
                return 0
            lo = resolution
    while hi - lo > resolution:
        mid = (lo + hi) // 2 // resolution * resolution
        mid = mid if lo < mid < hi else lo + resolution
        lo, hi = (mid, hi) if check(mid) else (lo, mid)
    return lo


def plan(onnx, batch, tmp, budget=None):
    """dlc's memory report at `batch` (compile only), or None when the
    budget cannot be met."""
    report = tmp / "report.json"
    result = subprocess.run([str(DLC), str(onnx), "--emit=exec", "-o", str(tmp / "plan.mlir"),
                             "--batch", str(batch), "--momentum", "0.9",
                             "--report-memory", str(report)]
                            + (["--memory-budget", str(budget)] if budget else []),
                            capture_output=True, text=True)
    if result.returncode != 0:
        if budget and "the smallest arena dlc reaches" in result.stderr:
            return None
        raise RuntimeError(result.stderr)
    return json.loads(report.read_text())


def run_dlc(onnx, batch, steps, tmp, budget=None):
    """Builds the trainer at `batch` and trains --steps steps: its summary."""
    trainer = tmp / "trainer"
    subprocess.run([str(DLC), str(onnx), "-o", str(trainer), "--batch", str(batch),
                    "--lr", "0.01", "--momentum", "0.9"]
                   + (["--memory-budget", str(budget)] if budget else []), check=True)
    rng = np.random.RandomState(0)
    data = (tmp / "x.npy", tmp / "y.npy")
    np.save(data[0], rng.rand(batch * steps, 3, SIZE, SIZE).astype(np.float32))
    np.save(data[1], rng.randint(0, CLASSES, batch * steps).astype(np.int64))
    summary = run_trainer(trainer, data, steps)[1]
    for path in data:
        path.unlink()
    print("  dlc batch %d%s: peak RSS %d" % (batch, " budget %d" % budget if budget else "",
                                            summary["peak_rss_bytes"]), flush=True)
    return summary


def dlc_largest(onnx, args, tmp, recompute):
    """(batch, measured summary) for dlc with or without recomputation."""
    def beside(batch):
        return args.outside + batch * args.steps * IMAGE_BYTES

    def planned_fit(batch):
        if recompute:
            budget = args.limit - beside(batch)
            return budget > 0 and plan(onnx, batch, tmp, budget) is not None
        return plan(onnx, batch, tmp)["arena_bytes"] + beside(batch) <= args.limit

    def measured_fit(batch):
        budget = args.limit - beside(batch) if recompute else None
        if recompute and plan(onnx, batch, tmp, budget) is None:
            return False
        runs[batch] = run_dlc(onnx, batch, args.steps, tmp, budget)
        return runs[batch]["peak_rss_bytes"] <= args.limit

    runs = {}
    batch = largest(planned_fit, 32)
    if not measured_fit(batch):
        batch = largest(measured_fit, batch - 1, args.resolution)
    return batch, runs.get(batch)


def naive_largest(onnx, args, tmp):
    return largest(lambda batch: plan(onnx, batch, tmp)["naive_bytes"] <= args.limit, 8)


def torch_largest(python, name, args, guess):
    """(batch, the peak RSS measured at it) for PyTorch run by `python`."""
    peaks = {}

    def fits(batch):
        peaks[batch] = torch_run(python, name, batch, args.steps)["peak_rss_bytes"]
        return peaks[batch] <= args.limit

    batch = largest(fits, guess, args.resolution)
    return batch, peaks.get(batch)


def torch_guess(python, name, args):
    """A first batch to try: the line through two small runs' peaks."""
    small = {b: torch_run(python, name, b, args.steps)["peak_rss_bytes"] for b in (8, 16)}
    per_image = max(1, (small[16] - small[8]) / 8)
    version = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return int(16 + (args.limit - small[16]) / per_image), version


def mb(n):
    return "%.0f MB" % (n / 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="resnet50,vgg16")
    parser.add_argument("--limit", type=parse_bytes, default=parse_bytes("8G"),
                        help="memory limit (suffixes K, M, G: powers of 1024)")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--outside", type=parse_bytes, default=parse_bytes("160M"),
                        help="what dlc's trainer holds beside its arena and data, for the search")
    parser.add_argument("--resolution", type=int, default=4,
                        help="images between batches tried by running")
    parser.add_argument("--torch", action="store_true", help="PyTorch eager, Debian's 1.13")
    parser.add_argument("--torch2", action="store_true",
                        help="PyTorch eager 2.x from .venv (bench/setup-venv.sh)")
    parser.add_argument("--write")
    args = parser.parse_args()
    torches = ([sys.executable] if args.torch else []) + ([VENV_PYTHON] if args.torch2 else [])
    if args.torch2 and not VENV_PYTHON.exists():
        sys.exit("error: %s is missing; run bench/setup-venv.sh first" % VENV_PYTHON)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for name in args.models.split(","):
            onnx = tmp / (name + ".onnx")
            export_torchvision(name, onnx, SIZE, CLASSES)
            row = {"model": name, "naive": naive_largest(onnx, args, tmp)}
            print(name, "naive", row["naive"], flush=True)
            row["plan"] = dlc_largest(onnx, args, tmp, recompute=False)
            print(name, "dlc", row["plan"][0], flush=True)
            row["recompute"] = dlc_largest(onnx, args, tmp, recompute=True)
            print(name, "dlc with recomputation", row["recompute"][0], flush=True)
            row["torch"] = []
            for python in torches:
                guess, version = torch_guess(python, name, args)
                batch, peak = torch_largest(python, name, args, guess)
                row["torch"].append((version, batch, peak))
                print(name, "torch", version, batch, peak, flush=True)
            rows.append(row)

    command = "bench/largest_batch.py --models %s --limit %s --steps %d --resolution %d%s%s" % (
        args.models, mb(args.limit).replace(" ", ""), args.steps, args.resolution,
        " --torch" if args.torch else "", " --torch2" if args.torch2 else "")
    lines = ["## The largest batch in %.0f GiB (CPU)" % (args.limit / 1024 ** 3), "",
             "- Command: `%s`" % command,
             "- Machine: %s" % machine(),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- Models: torchvision, %dx%d input, %d classes, SGD with momentum 0.9; a batch fits "
             "when the whole process's peak RSS over %d training steps (their images held in "
             "memory) is within %d bytes. dlc and PyTorch: measured at the batch shown (PyTorch "
             "searched in steps of %d images); naive: `naive_bytes` of dlc's report within the "
             "limit, nothing else counted" % (SIZE, SIZE, CLASSES, args.steps, args.limit,
                                              args.resolution), ""]
    header = ("| model | naive | dlc | peak RSS | dlc, --memory-budget | peak RSS "
              "| dlc / naive |")
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    for _ in torches:
        header += " PyTorch | peak RSS |"
        rule += "---:|---:|"
    if torches:
        header += " dlc / PyTorch |"
        rule += "---:|"
    lines += [header, rule]
    for row in rows:
        best = max(row["plan"][0], row["recompute"][0])
        cells = [row["model"], str(row["naive"]),
                 str(row["plan"][0]), mb(row["plan"][1]["peak_rss_bytes"]),
                 str(row["recompute"][0]), mb(row["recompute"][1]["peak_rss_bytes"]),
                 "%.1f" % (best / row["naive"]) if row["naive"] else "naive fits no batch"]
        for version, batch, peak in row["torch"]:
            cells += ["%d (torch %s)" % (batch, version), mb(peak) if peak else "-"]
        if torches:
            cells.append("%.2f" % (best / max(batch for _, batch, _ in row["torch"])))
        lines.append("| " + " | ".join(cells) + " |")
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
