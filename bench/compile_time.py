#!/usr/bin/env python3
"""Compile time of dlc on torchvision's ResNet-50 training step (224 x 224,
batch 32, training-form export): dlc alone (ONNX to C++ source: import,
training graph, memory plan, EmitC, translation) and the host compiler's
share of --emit=exe (assembling the embedded weights, compiling the
generated C++, linking), reported separately. Medians of --repeats runs.

Usage: bench/compile_time.py [--repeats 5] [--size 224] [--batch 32]
                             [--write FILE.md]
"""
import argparse
import datetime
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from report import export_torchvision, machine, publish  # noqa: E402


def timed(cmd):
    start = time.perf_counter()
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--write")
    args = parser.parse_args()
    dlc = ROOT / "build" / "bin" / "dlc"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        model = tmp / "resnet50.onnx"
        export_torchvision("resnet50", model, args.size, 1000, args.batch)
        common = [dlc, model, "--batch", args.batch, "--lr", "0.1", "--momentum", "0.9"]
        source = [timed(common + ["--emit=source", "-o", tmp / "r50.cpp"])
                  for _ in range(args.repeats)]
        exe = [timed(common + ["-o", tmp / "trainer"]) for _ in range(args.repeats)]
        size = os.path.getsize(tmp / "trainer")
    s, e = statistics.median(source), statistics.median(exe)
    report = "\n".join([
        "## Compile time: ResNet-50 training step", "",
        "- Command: `bench/compile_time.py --repeats %d --size %d --batch %d`"
        % (args.repeats, args.size, args.batch),
        "- Machine: %s" % machine(),
        "- Date: %s" % datetime.date.today().isoformat(),
        "- Model: torchvision ResNet-50 (training-form export), %dx%d input, batch %d, "
        "1000 classes, SGD with momentum" % (args.size, args.size, args.batch),
        "", "| stage | median seconds |", "|---|---:|",
        "| dlc: ONNX to C++ source (`--emit=source`) | **%.2f** |" % s,
        "| dlc and host compiler: executable (`--emit=exe`) | %.2f |" % e,
        "| host compiler and writing the embedded data (difference) | %.2f |" % (e - s), "",
        "Target (issue 3): under 10 s excluding the host compiler. The executable is "
        "%.0f MB: almost all of it the initial weights (the embedded ONNX model "
        "holds the graph only; --save fills the weights back in)." % (size / 1e6),
        ""])
    publish(report, args.write)


if __name__ == "__main__":
    main()
