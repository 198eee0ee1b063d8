"""What --precision costs in accuracy and saves in bytes: the Fashion-MNIST
CNN (python/dlc_tools/export_cnn.py's structure), or with --model resnet18
ResNet-18 (torchvision structure) on Fashion-MNIST padded to 32 x 32 and
repeated over three channels, trained for E epochs with
the same seeds (the data order and dropout; one run per seed) in fp32, with --precision=bf16, with --precision=auto (the
trainer calibrates and chooses), and compiled again from the plan auto
wrote (--precision-plan: its activations kept in their formats' bytes).
Per trainer: the mean test accuracy over the seeds and its range, the
mean change from fp32 (seed by seed), the median images per second as a
ratio to fp32's, and the activation bytes live when the loss is computed
(what the backward pass keeps, with the fp32 input) from the memory
report; then the plan's formats per tensor.

    /usr/bin/python3 bench/precision/accuracy.py [--model cnn|resnet18]
        [--epochs 2] [--batch 64] [--seeds 1,2,3] [--write docs/benchmarks.md]
        [--picture docs/images/precision-cnn-auto.svg]
"""
import argparse
import collections
import datetime
import gzip
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "python"))
from report import DLC, export_torchvision, machine, publish, trainer_summary  # noqa: E402
from dlc_tools import plot_precision  # noqa: E402
from dlc_tools.export_cnn import export_fashion_cnn  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def compile_trainer(model, exe, batch, *flags):
    report = exe.with_suffix(".memory.json")
    subprocess.run([DLC, model, "-o", exe, "--batch", str(batch), "--lr", "0.05",
                    "--momentum", "0.9", "--report-memory", report, *map(str, flags)],
                   check=True)
    timeline = json.loads(report.read_text())["timeline"]
    return next(p["activations"] for p in timeline if p["op"] == "softmaxCrossEntropy")


def idx(path):
    """An idx file's array (uint8 images or labels)."""
    import numpy as np
    data = gzip.open(path).read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def padded_fashion_mnist(tmp):
    """Fashion-MNIST as .npy, scaled to [0, 1] as the trainer's --data
    scales it, padded to 32 x 32 and repeated over three channels: the data
    flags."""
    import numpy as np
    flags = []
    for part, prefix in [("train", "train"), ("test", "t10k")]:
        images = idx("%s/%s-images-idx3-ubyte.gz" % (DATA, prefix)).astype(np.float32) / 255
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None].repeat(3, axis=1)
        x, y = tmp / (part + "-x.npy"), tmp / (part + "-y.npy")
        np.save(x, np.ascontiguousarray(images))
        np.save(y, idx("%s/%s-labels-idx1-ubyte.gz" % (DATA, prefix)).astype(np.int64))
        flags += ["--%s-x" % part, x, "--%s-y" % part, y]
    return flags


def train(exe, data, epochs, seed, *flags):
    result = subprocess.run([str(exe), *map(str, data), "--epochs", str(epochs),
                             "--seed", str(seed), "--log-every", "0", *map(str, flags)],
                            capture_output=True, text=True, check=True)
    log = [l for l in result.stdout.splitlines() if l.startswith("precision:")]
    return trainer_summary(result.stdout), log


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["cnn", "resnet18"], default="cnn")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--write")
    parser.add_argument("--picture", help="where to draw auto's formats over their "
                        "histograms (SVG)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        if args.model == "cnn":
            model, data = export_fashion_cnn(tmp / "cnn.onnx", 0, 13), ["--data", DATA]
        else:
            model = tmp / "resnet18.onnx"
            export_torchvision("resnet18", model, 32, 10)
            data = padded_fashion_mnist(tmp)
        plan, stats = tmp / "auto-plan.json", tmp / "auto-stats.json"
        for name, flags, run_flags in [
                ("fp32", (), ()),
                ("--precision=bf16", ("--precision=bf16",), ()),
                ("--precision=auto", ("--precision=auto",), ("--precision-plan-out", plan,
                                                          "--stats-out", stats)),
                ("--precision-plan (auto's, compiled again)", ("--precision-plan", plan), ())]:
            exe = tmp / ("t%d" % len(rows))
            live = compile_trainer(model, exe, args.batch, *flags)
            runs = []
            for seed in seeds:
                # auto's plan comes from its first seed's run.
                extra = run_flags if seed == seeds[0] else ()
                runs.append(train(exe, data, args.epochs, seed, *extra))
                print(name, seed, runs[-1][0]["test_accuracy"],
                      runs[-1][0]["images_per_second"], live, flush=True)
            rows.append((name, runs, live))
        chosen = json.loads(plan.read_text())["tensors"]
        if args.picture:
            plot_precision.main([str(plan), str(stats), "-o", args.picture, "--title",
                                 "%s: --precision=auto's formats (seed %d) over the "
                                 "statistics they were chosen and kept from"
                                 % (args.model, seeds[0])])
    base = [summary["test_accuracy"] for summary, _ in rows[0][1]]
    base_speed = statistics.median(summary["images_per_second"] for summary, _ in rows[0][1])
    described = {"cnn": "The Fashion-MNIST CNN",
                 "resnet18": "ResNet-18 (torchvision structure) on Fashion-MNIST padded to "
                             "32x32 and three channels"}[args.model]
    lines = ["## Precision: accuracy and bytes (CPU)" +
             ("" if args.model == "cnn" else ", ResNet-18"), "",
             "- Command: `bench/precision/accuracy.py --model %s --epochs %d --batch %d "
             "--seeds %s`" % (args.model, args.epochs, args.batch, args.seeds),
             "- Machine: %s" % machine(),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- %s, %d epochs, batch %d, SGD lr 0.05 momentum 0.9, one run "
             "per seed (%s), 60,000 training and 10,000 test images. Accuracy: the mean over "
             "the seeds and the range; change: the mean of each seed's difference from "
             "fp32's, with its standard error. Activations: the bytes live when the loss is computed (the memory "
             "report), the fp32 data input included." % (described, args.epochs, args.batch,
                                                         args.seeds),
             "",
             "| trainer | test accuracy | range | change (points) | images/s / fp32's | "
             "activations (KiB) | fp32's / these |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, runs, live in rows:
        accuracy = [summary["test_accuracy"] for summary, _ in runs]
        speed = statistics.median(summary["images_per_second"] for summary, _ in runs)
        change = [100 * (a - b) for a, b in zip(accuracy, base)]
        error = statistics.stdev(change) / len(change) ** 0.5 if len(change) > 1 else 0.0
        lines.append("| %s | %.4f | %.4f-%.4f | %+.2f ± %.2f | %.2f | %.0f | %.2f |" % (
            name, statistics.mean(accuracy), min(accuracy), max(accuracy),
            statistics.mean(change), error, speed / base_speed, live / 1024,
            rows[0][2] / live))
    log = rows[2][1][0][1]
    census = collections.Counter(t["format"] for t in chosen)
    redone = [summary["overflow_redos"] for summary, _ in rows[2][1]]
    lines += ["", "`--precision=auto`, seed %d: %s; %d lines logged while training "
              "(overflows: %d, steps redone: %d; over all seeds, steps redone: %s)."
              % (seeds[0], log[0] if log else "no calibration line", len(log) - 1,
                 sum(" overflowed (" in l for l in log), sum(" redone " in l for l in log),
                 ", ".join(map(str, redone))),
              "Formats at the end: %s." % ", ".join("%d %s" % (n, f)
                                                  for f, n in census.most_common()),
              "", "| tensor | kind | elements | format | exponent |", "|---|---|---:|---|---:|"]
    if args.picture and args.write:
        picture = os.path.relpath(args.picture, os.path.dirname(os.path.abspath(args.write)))
        lines[-3:-3] = ["", "The formats at the end over the statistics they were chosen "
                        "and kept from (`python/dlc_tools/plot_precision.py`; shaded: the "
                        "values' leading-bit positions; coloured: the range each format "
                        "holds at its exponent):", "", "![formats](%s)" % picture]
    for t in chosen:
        lines.append("| `%s` | %s | %d | %s | %d |" % (t["name"], t["kind"], t["elements"],
                                                      t["format"], t["exponent"]))
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
