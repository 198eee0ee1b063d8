"""What gathering statistics costs (dlc --tensor-stats, the trainer's
--stats-every): the median step of ResNet-18 (torchvision structure, 64 x 64
input, 10 classes, batch 32, SGD with momentum, one thread) compiled without
statistics, with them but not gathering, and gathering every N steps: the
mean step (from the trainer's images per second), as a ratio to the plain
trainer's in the same run (runs alternate).

    /usr/bin/python3 bench/precision/statistics_cost.py [--runs 3] [--steps 12]
        [--write docs/benchmarks.md]
"""
import json
import pathlib
import statistics
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from report import (compile_model, mean_step_seconds, overlap_trainers, publish,  # noqa: E402
                    round_arguments, section_head)

BATCH = 32


def seconds_per_step(exe, x, y, steps, *flags):
    return mean_step_seconds(exe, x, y, steps, BATCH, "--threads", 1, *flags)


def main():
    args = round_arguments(__doc__, runs=3, steps=12)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        exes, x, y = overlap_trainers(tmp, "resnet18", 64, 10, BATCH, BATCH * args.steps,
                                      ["none"])
        plain = exes["none"]
        stats = compile_model(tmp / "resnet18.onnx", tmp / "resnet18-stats", BATCH,
                              "--overlap=none", "--tensor-stats")
        out = tmp / "stats.json"
        rows = [("compiled with --tensor-stats, not gathering", stats, ()),
                ("gathering every 10 steps", stats,
                 ("--stats-every", 10, "--stats-out", out)),
                ("gathering every step", stats, ("--stats-every", 1, "--stats-out", out))]
        ratios = {name: [] for name, _, _ in rows}
        base = []
        for run in range(args.runs):
            reference = seconds_per_step(plain, x, y, args.steps)
            base.append(reference)
            for name, exe, flags in rows:
                ratios[name].append(seconds_per_step(exe, x, y, args.steps, *flags) / reference)
            print(run, reference, {k: v[-1] for k, v in ratios.items()}, flush=True)
        tensors = len(json.loads(out.read_text())["tensors"])
    lines = section_head("Cost of gathering statistics (CPU)",
                         "bench/precision/statistics_cost.py --runs %d --steps %d"
                         % (args.runs, args.steps), "; one thread")
    lines += [
             "- ResNet-18 (torchvision structure), 64x64, 10 classes, batch %d, SGD with "
             "momentum, `--overlap=none`; %d tensors instrumented; the mean step of each run "
             "(from the trainer's images per second) over the plain trainer's in the same "
             "run, medians of %d runs. Plain step: %.3f s." % (BATCH, tensors, args.runs,
                                               statistics.median(base)), "",
             "| trainer | step / plain step |", "|---|---:|"]
    for name, _, _ in rows:
        lines.append("| %s | %.3f |" % (name, statistics.median(ratios[name])))
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
