#!/usr/bin/env python3
"""Golden losses: 20 training steps of three models (ResNet-18 in two
activation layouts), recorded once from a
known-good dlc and checked after every change that should change no numbers
(issue 8's regression check, beside the comparisons with PyTorch).

Each case compiles a model that is rebuilt deterministically (the bundled
MLP; the Fashion-MNIST CNN and ResNet-18 at 32 x 32 exported from seeded
PyTorch), trains 20 steps on fixed data with one thread, and records every
step's loss. oneDNN is limited to AVX2 (DNNL_MAX_CPU_ISA) so that Intel
machines with AVX-512 and AMD Zen 3 run the same kernels.

    golden_losses.py record [--dlc build/bin/dlc] [--out test/golden]
    golden_losses.py check  [--dlc build/bin/dlc] [--golden test/golden]
"""
import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
from dlc_tools import export_cnn, export_torchvision  # noqa: E402

FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
STEPS = 20
TOLERANCE = 1e-6
ENV = {"OMP_NUM_THREADS": "1", "DNNL_MAX_CPU_ISA": "AVX2"}


def mlp(work):
    return ROOT / "models" / "mlp.onnx", ["--batch", "128", "--lr", "0.05", "--momentum", "0.9"], \
        ["--data", str(FASHION), "--no-shuffle"]


def fashion_cnn(work):
    path = export_cnn.export_fashion_cnn(work / "cnn.onnx", seed=0)
    return path, ["--batch", "64", "--lr", "0.05", "--momentum", "0.9"], \
        ["--data", str(FASHION), "--seed", "3"]


def resnet18(work, layout):
    path = work / "resnet18.onnx"
    export_torchvision.export(export_torchvision.build("resnet18", 10, seed=0), path, 32, 8)
    rng = np.random.default_rng(0)
    np.save(work / "x.npy", rng.standard_normal((8 * STEPS, 3, 32, 32)).astype(np.float32))
    np.save(work / "y.npy", rng.integers(0, 10, 8 * STEPS))
    return path, ["--batch", "8", "--lr", "0.02", "--momentum", "0.9", "--weight-decay", "1e-4",
                  "--cpu-layout=" + layout], \
        ["--train-x", str(work / "x.npy"), "--train-y", str(work / "y.npy"), "--no-shuffle"]


# ResNet-18 twice: its activations in NCHW (recorded before blocked layouts
# existed) and blocked by 8. The two round batch norm differently (its NCHW
# and blocked kernels sum in other orders): 3e-7 apart at the first step,
# and this small-batch run amplifies that tenfold a step, so each layout
# has its own record. Both are checked against PyTorch elsewhere.
CASES = {"mlp": mlp, "fashion-cnn": fashion_cnn,
         "resnet18-32px": lambda work: resnet18(work, "plain"),
         "resnet18-32px-nChw8c": lambda work: resnet18(work, "nChw8c")}


def machine():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def weights_digest(path):
    """A hash of the initial weights, so that an export that drifted is told
    apart from a compiler that did."""
    digest = hashlib.sha256()
    for tensor in sorted(onnx.load(str(path)).graph.initializer, key=lambda t: t.name):
        digest.update(tensor.name.encode())
        digest.update(onnx.numpy_helper.to_array(tensor).tobytes())
    return digest.hexdigest()


def run_case(dlc, name):
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        model, compile_flags, data = CASES[name](work)
        exe = work / "trainer"
        subprocess.run([str(dlc), str(model), "-o", str(exe), *compile_flags], check=True)
        log = work / "losses.txt"
        subprocess.run([str(exe), *data, "--steps", str(STEPS), "--log-every", "0",
                        "--loss-log", str(log)], check=True, capture_output=True,
                       env=dict(os.environ, **ENV))
        losses = [float(line) for line in log.read_text().split()]
        return {"model": name, "compile_flags": compile_flags, "data": data[:1],
                "env": ENV, "weights_sha256": weights_digest(model), "losses": losses}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["record", "check"])
    parser.add_argument("--dlc", type=pathlib.Path, default=ROOT / "build" / "bin" / "dlc")
    parser.add_argument("--golden", type=pathlib.Path, default=ROOT / "test" / "golden")
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    args = parser.parse_args(argv)
    failures = 0
    for name in args.case or sorted(CASES):
        result = run_case(args.dlc, name)
        path = args.golden / ("losses-%s.json" % name)
        if args.mode == "record":
            result["recorded_on"] = machine()
            result["dlc_commit"] = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                text=True).stdout.strip()
            args.golden.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result, indent=1) + "\n")
            print("recorded %s: %d losses" % (path, len(result["losses"])))
            continue
        golden = json.loads(path.read_text())
        if golden["weights_sha256"] != result["weights_sha256"]:
            print("%s: the exported initial weights changed; the golden file no longer "
                  "applies" % name)
            failures += 1
            continue
        worst = max(abs(a - b) / abs(b) for a, b in zip(result["losses"], golden["losses"]))
        ok = len(result["losses"]) == len(golden["losses"]) and worst <= TOLERANCE
        failures += not ok
        print("%s: %d steps, worst relative difference %.2e (limit %.0e) %s"
              % (name, len(result["losses"]), worst, TOLERANCE, "ok" if ok else "FAIL"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
