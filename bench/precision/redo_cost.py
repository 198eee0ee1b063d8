"""What undoing an overflowed step costs (./trainer --on-overflow): the
--precision=auto trainer of ResNet-18 (torchvision structure, 32 x 32 x 3,
10 classes, batch 64, SGD with momentum) run with --on-overflow=keep, which
copies nothing, with skip, which copies the variables to the host before
every step and puts them back after one that overflowed (the copy's cost
alone), and with redo, which also runs that step again; runs alternate on
the same random data, the mean step of each over keep's in the same round,
medians of the rounds, with the steps each undid.

    /usr/bin/python3 bench/precision/redo_cost.py [--runs 5] [--steps 30]
        [--write docs/benchmarks.md]
"""
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from report import (compile_model, overlap_trainers, publish, round_arguments,  # noqa: E402
                    section_head, trainer_summary)

BATCH = 64
CALIBRATION = 2


def run(exe, x, y, steps, action):
    result = subprocess.run([str(exe), "--train-x", str(x), "--train-y", str(y),
                             "--steps", str(steps), "--epochs", "100", "--log-every", "0",
                             "--calibration-steps", str(CALIBRATION),
                             "--on-overflow", action],
                            capture_output=True, text=True, check=True)
    summary = trainer_summary(result.stdout)
    return (BATCH / summary["images_per_second"],
            summary["overflow_redos"] + summary["overflow_skips"])


def main():
    args = round_arguments(__doc__, runs=5, steps=30)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        _, x, y = overlap_trainers(tmp, "resnet18", 32, 10, BATCH, BATCH * args.steps, [])
        auto = compile_model(tmp / "resnet18.onnx", tmp / "resnet18-auto", BATCH,
                             "--overlap=none", "--precision=auto")
        actions = ["skip", "redo"]
        base, ratios, undone = [], {a: [] for a in actions}, {a: [] for a in actions}
        for round_ in range(args.runs):
            keep, _ = run(auto, x, y, args.steps, "keep")
            base.append(keep)
            for action in actions:
                seconds, steps = run(auto, x, y, args.steps, action)
                ratios[action].append(seconds / keep)
                undone[action].append(steps)
            print(round_, keep, {a: r[-1] for a, r in ratios.items()}, flush=True)
    lines = section_head("Precision: the cost of redoing overflowed steps (CPU)",
                         "bench/precision/redo_cost.py --runs %d --steps %d"
                         % (args.runs, args.steps))
    lines += [
             "- ResNet-18 (torchvision structure), 32x32x3, 10 classes, batch %d, SGD with "
             "momentum, `--overlap=none`, `--precision=auto --calibration-steps %d`, %d "
             "steps on random data; the mean step of each run over `--on-overflow=keep`'s "
             "in the same round, medians of %d rounds. keep's step: %.1f ms."
             % (BATCH, CALIBRATION, args.steps, args.runs, 1e3 * statistics.median(base)), "",
             "| trainer | step / keep's step | range | steps undone per run |",
             "|---|---:|---:|---:|"]
    for action in actions:
        r = ratios[action]
        lines.append("| --on-overflow=%s | %.3f | %.3f-%.3f | %s |"
                     % (action, statistics.median(r), min(r), max(r),
                        ", ".join(map(str, undone[action]))))
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
