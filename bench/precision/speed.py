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
import pathlib
import statistics
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from report import (compile_model, mean_step_seconds, overlap_trainers, publish,  # noqa: E402
                    round_arguments, section_head)

BATCH = 64


def bf16_instructions():
    flags = open("/proc/cpuinfo").read().split()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def main():
    args = round_arguments(__doc__, runs=5, steps=12)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        exes, x, y = overlap_trainers(tmp, "resnet18", 32, 10, BATCH, BATCH * args.steps,
                                      ["none"])
        fp32 = exes["none"]
        bf16 = compile_model(tmp / "resnet18.onnx", tmp / "resnet18-bf16", BATCH,
                             "--overlap=none", "--precision=bf16")
        base, ratios = [], []
        for run in range(args.runs):
            reference = mean_step_seconds(fp32, x, y, args.steps, BATCH)
            ours = mean_step_seconds(bf16, x, y, args.steps, BATCH)
            base.append(reference)
            ratios.append(ours / reference)
            print(run, reference, ours, flush=True)
    lines = section_head("Precision: bf16 step time (CPU)",
                         "bench/precision/speed.py --runs %d --steps %d" % (args.runs, args.steps),
                         "; AVX512-BF16 or AMX: %s" % ("yes" if bf16_instructions() else "no"))
    lines += [
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
