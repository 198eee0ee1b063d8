#!/usr/bin/python3
"""What each image costs at the peak, without recomputation: the bytes
PyTorch's autograd saves for the backward pass (counted with
torch.autograd.graph.saved_tensors_hooks, each storage once, parameters
left out) against the transient bytes live at dlc's peak (its memory
report), per image. Both grow with the batch at this rate; what PyTorch's
process holds besides (libraries, allocator) does not, which is why dlc's
peak RSS ratio to PyTorch's rises with the batch.

    bench/saved_activations.py [--models resnet50,vgg16] [--batch 8]
                               [--write docs/benchmarks.md]
"""
import argparse
import datetime
import json
import pathlib
import subprocess
import sys
import tempfile

import torch
import torchvision

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from report import export_torchvision, machine, publish  # noqa: E402

SIZE, CLASSES = 224, 1000


def torch_saved_bytes(name, batch):
    """Bytes autograd saves for backward in one forward pass (PyTorch
    eager, training mode), each storage counted once, parameters left out."""
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(num_classes=CLASSES).train()
    storages = {}

    def pack(tensor):
        storage = tensor.storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.rand(batch, 3, SIZE, SIZE))
    parameters = {p.storage().data_ptr() for p in model.parameters()}
    return sum(n for ptr, n in storages.items() if ptr not in parameters)


def dlc_peak_bytes(name, batch, tmp):
    """The most transient bytes live at one operation of dlc's training step
    (activations, gradients, scratch), from its memory report."""
    onnx = tmp / (name + ".onnx")
    export_torchvision(name, onnx, SIZE, CLASSES)
    report = tmp / "report.json"
    subprocess.run([str(ROOT / "build" / "bin" / "dlc"), str(onnx), "--emit=exec", "-o",
                    str(tmp / "plan.mlir"), "--batch", str(batch), "--momentum", "0.9",
                    "--report-memory", str(report)], check=True)
    timeline = json.loads(report.read_text())["timeline"]
    peak = max(timeline, key=lambda e: e["activations"] + e["gradients"] + e["scratch"])
    return peak["activations"], peak["activations"] + peak["gradients"] + peak["scratch"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="resnet50,vgg16")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--write")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            saved = torch_saved_bytes(name, args.batch)
            activations, transient = dlc_peak_bytes(name, args.batch, pathlib.Path(tmp))
            rows.append((name, saved, activations, transient))
            print(name, saved, activations, transient, flush=True)
    per = lambda n: "%.1f MB" % (n / args.batch / 1e6)  # noqa: E731
    lines = ["## Bytes per image at the peak, without recomputation", "",
             "- Command: `bench/saved_activations.py --models %s --batch %d`"
             % (args.models, args.batch),
             "- Machine: %s" % machine(),
             "- Date: %s" % datetime.date.today().isoformat(),
             "- PyTorch %s eager, training mode: the storages autograd saves for the "
             "backward pass in one forward pass (saved_tensors_hooks), parameters left out; "
             "dlc: the transient bytes live at the peak of its plan (`--report-memory`), "
             "activations alone and with the gradients and scratch live there; both per "
             "image of a batch of %d, 224x224" % (torch.__version__, args.batch), "",
             "| model | PyTorch saved | dlc activations at its peak | dlc all transient at its peak |",
             "|---|---:|---:|---:|"]
    for name, saved, activations, transient in rows:
        lines.append("| %s | %s | %s | %s |" % (name, per(saved), per(activations), per(transient)))
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
