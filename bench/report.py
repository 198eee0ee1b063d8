"""Shared by the benchmarks: the machine's description, writing one
section of docs/benchmarks.md in place (publish: print it, and write it
where --write says), and exporting a torchvision model to ONNX."""
import os
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def export_torchvision(name, path, size=224, classes=1000, batch=None):
    """`name` from torchvision (random weights) as ONNX at `path`, through
    python/dlc_tools/export_torchvision.py in a process of its own."""
    subprocess.run([sys.executable, ROOT / "python" / "dlc_tools" / "export_torchvision.py",
                    name, path, "--size", str(size), "--classes", str(classes)]
                   + (["--batch", str(batch)] if batch else []),
                   check=True, stderr=subprocess.DEVNULL)


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
