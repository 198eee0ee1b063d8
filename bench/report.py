"""Shared by the benchmarks: the machine's description, writing one
section of docs/benchmarks.md in place (publish: print it, and write it
where --write says), exporting a torchvision model to ONNX, and the
trainers the data-parallel benchmarks compare (one per --overlap), and the
parts every benchmark that alternates runs repeats (round_arguments,
section_head, compile_model)."""
import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DLC = ROOT / "build" / "bin" / "dlc"


def export_torchvision(name, path, size=224, classes=1000, batch=None):
    """`name` from torchvision (random weights) as ONNX at `path`, through
    python/dlc_tools/export_torchvision.py in a process of its own."""
    subprocess.run([sys.executable, ROOT / "python" / "dlc_tools" / "export_torchvision.py",
                    name, path, "--size", str(size), "--classes", str(classes)]
                   + (["--batch", str(batch)] if batch else []),
                   check=True, stderr=subprocess.DEVNULL)


def overlap_trainers(tmp, name, size, classes, batch, count, modes, *flags):
    """torchvision's `name` compiled by dlc once per --overlap of `modes`
    (batch per rank `batch`, SGD with momentum 0.9, `flags`), and `count`
    random samples with labels as .npy: (trainers by mode, x, y)."""
    import numpy as np
    onnx = tmp / (name + ".onnx")
    export_torchvision(name, onnx, size, classes)
    trainers = {mode: compile_model(onnx, tmp / ("%s-%s" % (name, mode)), batch,
                                    "--overlap=" + mode, *flags)
                for mode in modes}
    rng = np.random.default_rng(0)
    x, y = tmp / (name + "-x.npy"), tmp / (name + "-y.npy")
    np.save(x, rng.standard_normal((count, 3, size, size)).astype(np.float32))
    np.save(y, rng.integers(0, classes, count))
    return trainers, x, y


def compile_model(onnx, exe, batch, *flags):
    """dlc on `onnx` into `exe` (returned): batch per rank `batch`, SGD with
    momentum 0.9, then `flags`."""
    subprocess.run([str(DLC), str(onnx), "-o", str(exe), "--batch", str(batch),
                    "--momentum", "0.9", *map(str, flags)], check=True)
    return exe


def round_arguments(doc, runs, steps=None):
    """The command line of a benchmark whose runs alternate in rounds: --runs
    (rounds), --steps (per run, where `steps` is given) and --write (the
    markdown file to put its section in); its description is the first
    paragraph of `doc`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=runs)
    if steps is not None:
        parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--write")
    return parser.parse_args()


def section_head(title, command, machine_note=""):
    """The lines a section of docs/benchmarks.md starts with: its heading,
    the command that made it, the machine and the date."""
    return ["## " + title, "", "- Command: `%s`" % command,
            "- Machine: %s%s" % (machine(), machine_note),
            "- Date: %s" % datetime.date.today().isoformat()]


def trainer_summary(stdout):
    """The trainer's final JSON line."""
    return json.loads([l for l in stdout.splitlines() if l.startswith("{")][-1])


def mean_step_seconds(exe, x, y, steps, batch, *flags):
    """The mean step of a trainer's run of `steps` steps over the .npy
    samples x, y (batch over its images per second): the first step, and
    any that gather statistics, count with the others, as in a long run."""
    result = subprocess.run([str(exe), "--train-x", str(x), "--train-y", str(y),
                             "--steps", str(steps), "--epochs", "100", "--log-every", "0",
                             *map(str, flags)],
                            capture_output=True, text=True, check=True)
    return batch / trainer_summary(result.stdout)["images_per_second"]


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores" % (model, os.cpu_count())


def write_section(path, section):
    """Replaces the section of markdown file `path` whose '## ' heading is
    the first line of `section` (up to the next '## ' heading), or appends
    it when there is none."""
    path = pathlib.Path(path)
    heading = section.splitlines()[0]
    lines = path.read_text().splitlines() if path.exists() else []
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("## ")), len(lines))
        lines[start:end] = section.rstrip("\n").splitlines() + [""]
    else:
        lines += [""] + section.rstrip("\n").splitlines()
    path.write_text("\n".join(lines).rstrip("\n") + "\n")


def publish(section, path=None):
    """Prints `section` and, given `path`, writes it there (write_section)."""
    print(section)
    if path:
        write_section(path, section)
