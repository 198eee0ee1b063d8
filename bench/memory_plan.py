#!/usr/bin/python3
"""The memory plan of the benchmark models, from `dlc --report-memory`:
naive bytes (every buffer its own, as Caffe allocated), the arena, the lower
bound of any placement for the chosen order, and the peaks of the candidate
schedules (`dlc.schedule`). Compile only: nothing is trained.

    bench/memory_plan.py [--models alexnet,vgg16,resnet18,resnet50]
                         [--batches 32,64] [--write docs/benchmarks.md]
"""
import argparse
import datetime
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from report import export_torchvision, machine, publish  # noqa: E402

SIZE, CLASSES = 224, 1000


def mb(n):
    return "%.0f MB" % (n / 1e6)


def schedule_peaks(mlir_text):
    """The peaks of @train_step's candidate schedules, and the one chosen."""
    match = re.search(r'func\.func @train_step\(.*?dlc\.schedule = \{chosen = "([^"]+)", '
                      r'peak_bytes = \{([^}]*)\}', mlir_text)
    if not match:
        raise ValueError("no dlc.schedule on @train_step")
    peaks = dict((name.strip('"'), int(value)) for name, value in
                 re.findall(r'("[^"]+"|\w+) = (\d+) : i64', match.group(2)))
    return match.group(1), peaks


def smallest_with_recomputation(dlc, onnx, batch, tmp):
    """The smallest arena `--memory-budget` reaches, and the operations it
    recomputes a step: what dlc's refusal of a 1-byte budget says."""
    result = subprocess.run([str(dlc), str(onnx), "--emit=exec", "-o", str(tmp / "x.mlir"),
                             "--batch", str(batch), "--momentum", "0.9", "--memory-budget", "1"],
                            capture_output=True, text=True)
    match = re.search(r"the smallest arena dlc reaches is (\d+) bytes .*recomputing (\d+) "
                      r"operations", result.stderr)
    if result.returncode == 0 or not match:
        raise ValueError("unexpected answer to --memory-budget 1: " + result.stderr)
    return int(match.group(1)), int(match.group(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="alexnet,vgg16,resnet18,resnet50")
    parser.add_argument("--batches", default="32,64")
    parser.add_argument("--write")
    args = parser.parse_args()
    dlc = ROOT / "build" / "bin" / "dlc"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for name in args.models.split(","):
            onnx = tmp / (name + ".onnx")
            export_torchvision(name, onnx, SIZE, CLASSES)
            for batch in map(int, args.batches.split(",")):
                report, ir = tmp / "report.json", tmp / "plan.mlir"
                subprocess.run([str(dlc), str(onnx), "--emit=exec", "-o", str(ir),
                                "--batch", str(batch), "--momentum", "0.9",
                                "--report-memory", str(report)], check=True)
                r = json.loads(report.read_text())
                chosen, peaks = schedule_peaks(ir.read_text())
                r["smallest"], r["recomputed"] = smallest_with_recomputation(dlc, onnx, batch, tmp)
                rows.append((name, batch, r, chosen, peaks))
                print(name, batch, {k: v for k, v in r.items() if k != "timeline"}, chosen, peaks,
                      flush=True)

    lines = ["## Memory plan: naive, arena and lower bound", "",
             "- Command: `bench/memory_plan.py --models %s --batches %s`"
             % (args.models, args.batches),
             "- Machine: %s (the plan depends on the CPU only through oneDNN's workspace sizes)"
             % machine(),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- Models: torchvision, %dx%d input, %d classes, SGD with momentum 0.9; figures from "
             "`dlc --emit=exec --report-memory`. Naive: every buffer its own bytes (as Caffe); "
             "LB: globals plus the most bytes live at once for the chosen order. Step peak: "
             "the training step's transient bytes for each candidate order of "
             "`dlc-schedule-memory` (given: the training graph's, updates after the whole "
             "backward pass; the list schedule by bytes freed; depth first), and the one "
             "chosen. Smallest with "
             "recomputation: the arena `--memory-budget` reaches at best, and the operations "
             "it recomputes a step." % (SIZE, SIZE, CLASSES), "",
             "| model | batch | naive | arena | LB | arena / LB | arena / naive "
             "| step peak: given order | bytes freed | depth first | chosen "
             "| smallest with recomputation | recomputed GFLOP |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for name, batch, r, chosen, peaks in rows:
        lines.append("| %s | %d | %s | %s | %s | %.3f | %.3f | %s | %s | %s | %s | %s | %.2f |" % (
            name, batch, mb(r["naive_bytes"]), mb(r["arena_bytes"]), mb(r["lower_bound_bytes"]),
            r["arena_bytes"] / r["lower_bound_bytes"], r["arena_bytes"] / r["naive_bytes"],
            mb(peaks["given"]), mb(peaks["bytes freed"]), mb(peaks["depth first"]), chosen,
            mb(r["smallest"]),
            r["recomputed"] / 1e9))
    report = "\n".join(lines) + "\n"
    publish(report, args.write)


if __name__ == "__main__":
    main()
