"""What --precision=bf16 does to step time: ResNet-18 (torchvision
structure, Fashion-MNIST's shape padded to 32 x 32 and three channels, 10
classes, batch 64, SGD with momentum) compiled in fp32 and in bf16, run
alternately on the same random data; the mean step of each run (from the
trainer's images per second) over fp32's in the same round, medians of the
rounds. Where the CPU has AVX512-BF16, bf16's convolutions run on oneDNN's
bf16 kernels (dlc-use-bf16-kernels); elsewhere on fp32 kernels over rounded
copies.

    /usr/bin/python3 bench/precision/speed.py [--runs 5] [--steps 12]
        [--write docs/benchmarks.md]
"""
import argparse
import datetime
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from report import ROOT, machine, mean_step_seconds, overlap_trainers, publish  # noqa: E402

BATCH = 64


def bf16_instructions():
    flags = open("/proc/cpuinfo").read().split()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        exes, x, y = overlap_trainers(tmp, "resnet18", 32, 10, BATCH, BATCH * args.steps,
                                      ["none"])
        fp32 = exes["none"]
        bf16 = tmp / "resnet18-bf16"
        subprocess.run([ROOT / "build" / "bin" / "dlc", tmp / "resnet18.onnx", "-o", bf16,
                        "--batch", str(BATCH), "--momentum", "0.9", "--overlap=none",
                        "--precision=bf16"], check=True)
        base, ratios = [], []
        for run in range(args.runs):
            reference = mean_step_seconds(fp32, x, y, args.steps, BATCH)
            ours = mean_step_seconds(bf16, x, y, args.steps, BATCH)
            base.append(reference)
            ratios.append(ours / reference)
            print(run, reference, ours, flush=True)
    lines = ["## Precision: bf16 step time (CPU)", "",
             "- Command: `bench/precision/speed.py --runs %d --steps %d`" % (args.runs, args.steps),
             "- Machine: %s; AVX512-BF16 or AMX: %s" % (machine(),
                                                     "yes" if bf16_instructions() else "no"),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- ResNet-18 (torchvision structure), 32x32x3, 10 classes, batch %d, SGD with "
             "momentum, `--overlap=none`, the trainer's default threads; the mean step of "
             "each run over fp32's in the same round, medians of %d rounds. fp32 step: "
             "%.1f ms." % (BATCH, args.runs, 1e3 * statistics.median(base)), "",
             "| trainer | step / fp32's step | range |", "|---|---:|---:|",
             "| --precision=bf16 | %.2f | %.2f-%.2f |" % (statistics.median(ratios),
                                                         min(ratios), max(ratios))]
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
