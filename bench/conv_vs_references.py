#!/usr/bin/env python3
"""CPU training throughput of dlc executables against PyTorch eager (Debian's
1.13 on OpenBLAS, and PyPI's 2.x with MKL and oneDNN 3 from .venv) and
onnxruntime-training, on convolutional networks:

  fashion-cnn  the LeNet-style CNN (python/dlc_tools/export_cnn.py) on
               Fashion-MNIST, batch 128
  resnet18     torchvision's ResNet-18 at 32 x 32 input, batch 32, on fixed
               random images (BatchNorm trained with batch statistics)

All start from the same ONNX model and weights, train with plain SGD
(lr 0.05; onnxruntime-training's SGD has no momentum) on cross-entropy, at
the same batch and thread budget. Each reference runs in every thread
configuration that fits the budget, and the fastest is the reference. Runs
alternate, --repeats times each, and medians are compared.

dlc's figure is the trainer's own images_per_second, which counts every step
including the first (where oneDNN builds its kernels); PyTorch and
onnxruntime-training are timed after --warmup untimed steps. The comparison
is thus, if anything, tilted against dlc.

onnxruntime-training and PyTorch 2.x come from PyPI: run bench/setup-venv.sh
first (it makes .venv with the pinned bench/requirements.txt).

Usage: bench/conv_vs_references.py [--models fashion-cnn,resnet18]
          [--threads 1,2] [--repeats 5] [--write docs/benchmarks.md]

--write replaces this benchmark's section of that file.
"""
import argparse
import datetime
import gzip
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "python"))
from report import machine, publish  # noqa: E402

FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
LR = 0.05
MODELS = {
    # name: batch, timed steps, description
    "fashion-cnn": (128, 150, "LeNet-style CNN, Fashion-MNIST, batch 128"),
    "resnet18": (32, 30, "ResNet-18, 32x32 random images, batch 32"),
}
RANDOM_SAMPLES = 2048
# The references: kind -> how the tables name it.
KINDS = {"torch": "PyTorch (Debian)", "torch2": "PyTorch (PyPI)", "ort": "ORT"}


NOTES = """Where the difference comes from: Debian's PyTorch 1.13 is built with
oneDNN (USE_MKLDNN) for its convolutions too. What dlc does differently:
activations stay in oneDNN's blocked layout between convolutions, batch
norm and pooling (dlc-assign-cpu-layouts: no reorders around each call),
batch norm is one fused oneDNN primitive each way, elementwise kernels are
vectorised loops with no per-op dispatch, pooling is oneDNN's, and fully
connected layers run on oneDNN's sgemm where PyTorch calls Debian's
OpenBLAS (see the MLP section). Before the convolutions moved to oneDNN's
blocked layouts and batch norm to its fused primitive, an ad-hoc run of dlc
gave 75 images/s on ResNet-18 at one thread, about half of PyTorch's.
"""


# ---------------------------------------------------------------------------
# Preparation (Debian's Python: torch, onnx)


def prepare(name, workdir):
    """Exports the model and writes its training data as .npy (x float32,
    y int64); returns (model path, x path, y path)."""
    import numpy as np
    model = workdir / (name + ".onnx")
    if name == "fashion-cnn":
        from dlc_tools.export_cnn import export_fashion_cnn
        export_fashion_cnn(model)
        with gzip.open(FASHION / "train-images-idx3-ubyte.gz") as f:
            x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
        with gzip.open(FASHION / "train-labels-idx1-ubyte.gz") as f:
            y = np.frombuffer(f.read(), np.uint8, offset=8)
        x = x.astype(np.float32) / 255
    else:
        from dlc_tools.export_torchvision import build, export
        export(build("resnet18"), model, 32, MODELS[name][0])
        rng = np.random.default_rng(0)
        x = rng.standard_normal((RANDOM_SAMPLES, 3, 32, 32), dtype=np.float32)
        y = rng.integers(0, 10, RANDOM_SAMPLES)
    np.save(workdir / (name + "_x.npy"), x)
    np.save(workdir / (name + "_y.npy"), y.astype(np.int64))
    return model, workdir / (name + "_x.npy"), workdir / (name + "_y.npy")


# ---------------------------------------------------------------------------
# Workers: each runs in a fresh process so thread settings take effect, and
# prints one JSON line with images_per_second.


def batches(count, batch, steps, seed=0):
    """Index arrays of `steps` batches from one shuffle of `count` samples."""
    import numpy as np
    order = np.random.default_rng(seed).permutation(count)
    per_epoch = count // batch
    return [order[(i % per_epoch) * batch:][:batch] for i in range(steps)]


def time_steps(step, count, batch, args):
    """Runs `step` on --warmup untimed then --steps timed batches; prints
    the timed steps' images per second."""
    plan = batches(count, batch, args.warmup + args.steps)
    for index in plan[:args.warmup]:
        step(index)
    start = time.perf_counter()
    for index in plan[args.warmup:]:
        step(index)
    print(json.dumps({"images_per_second":
                      args.steps * batch / (time.perf_counter() - start)}))


def torch_worker(args):
    import numpy as np
    import torch
    from dlc_tools.export_torchvision import load_onnx_weights
    torch.set_num_threads(args.worker_threads)
    batch = MODELS[args.model][0]
    if args.model == "fashion-cnn":
        from dlc_tools.export_cnn import build_fashion_cnn
        model = build_fashion_cnn()
    else:
        from dlc_tools.export_torchvision import build
        model = build("resnet18")
    load_onnx_weights(model, args.onnx)
    model.train()
    x = torch.from_numpy(np.load(args.x))
    y = torch.from_numpy(np.load(args.y))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def step(index):
        index = torch.from_numpy(index)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()

    time_steps(step, len(x), batch, args)


def ort_worker(args):
    import numpy as np
    import onnx
    import onnxruntime
    from onnxruntime.training import artifacts
    from onnxruntime.training.api import CheckpointState, Module, Optimizer
    batch = MODELS[args.model][0]
    model = onnx.load(args.onnx)
    # Running statistics are state, not parameters: frozen for the gradient
    # graph (onnxruntime-training does not write them back).
    frozen = [t.name for t in model.graph.initializer
              if t.name.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    trainable = [t.name for t in model.graph.initializer if t.name not in frozen]
    with tempfile.TemporaryDirectory() as tmp:
        artifacts.generate_artifacts(
            model, requires_grad=trainable, frozen_params=frozen,
            loss=artifacts.LossType.CrossEntropyLoss,
            optimizer=artifacts.OptimType.SGD, artifact_directory=tmp)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.worker_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        state = CheckpointState.load_checkpoint(os.path.join(tmp, "checkpoint"))
        module = Module(os.path.join(tmp, "training_model.onnx"), state,
                        session_options=options)
        optimizer = Optimizer(os.path.join(tmp, "optimizer_model.onnx"), module)
    optimizer.set_learning_rate(LR)
    module.train()
    x, y = np.load(args.x), np.load(args.y)

    def step(index):
        module(np.ascontiguousarray(x[index]), y[index])
        optimizer.step()
        module.lazy_reset_grad()

    time_steps(step, len(x), batch, args)


# ---------------------------------------------------------------------------
# Driver


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])["images_per_second"]


def run_dlc(exe, x, y, threads, steps):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([str(exe), "--train-x", str(x), "--train-y", str(y),
                          "--steps", str(steps), "--threads", str(threads),
                          "--log-every", "0"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return last_json(out)


def run_worker(python, kind, config, name, paths, steps, warmup):
    """config: (worker threads, BLAS/OpenMP threads)."""
    worker_threads, pool_threads = config
    env = dict(os.environ, OMP_NUM_THREADS=str(pool_threads),
               OPENBLAS_NUM_THREADS=str(pool_threads))
    model, x, y = paths
    out = subprocess.run(
        [str(python), __file__, "--worker", kind, "--model", name,
         "--worker-threads", str(worker_threads), "--onnx", str(model), "--x", str(x),
         "--y", str(y), "--steps", str(steps), "--warmup", str(warmup)],
        env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit("%s worker failed:\n%s" % (kind, out.stderr[-3000:]))
    return last_json(out.stdout)


def configurations(kind, threads):
    """Thread configurations of a reference within a budget. PyTorch: its
    intra-op threads over OpenBLAS's (both at the budget, or one intra-op
    thread over a threaded BLAS, as OpenMP and OpenBLAS's pools contend).
    onnxruntime: intra-op threads from 1 to the budget."""
    if kind in ("torch", "torch2"):
        return sorted({(threads, threads), (1, threads)})
    return [(t, 1) for t in range(1, threads + 1)]


def describe(kind, config):
    if kind in ("torch", "torch2"):
        return "torch %d/BLAS %d" % config
    return "intra-op %d" % config[0]


def benchmark(name, threads_list, repeats, warmup, workdir):
    batch, steps, _ = MODELS[name]
    paths = prepare(name, workdir)
    exe = workdir / (name + "-trainer")
    subprocess.run([str(ROOT / "build" / "bin" / "dlc"), str(paths[0]), "-o", str(exe),
                    "--batch", str(batch), "--lr", str(LR)], check=True)
    rows = []
    for threads in threads_list:
        rates = {("dlc", None): []}
        for kind in KINDS:
            for config in configurations(kind, threads):
                rates[(kind, config)] = []
        for _ in range(repeats):
            for (kind, config), values in rates.items():
                if kind == "dlc":
                    values.append(run_dlc(exe, paths[1], paths[2], threads, steps))
                else:
                    python = sys.executable if kind == "torch" else VENV_PYTHON
                    worker = "ort" if kind == "ort" else "torch"
                    values.append(run_worker(python, worker, config, name, paths, steps,
                                             warmup))
        medians = {key: statistics.median(v) for key, v in rates.items()}
        row = {"model": name, "threads": threads, "dlc": medians[("dlc", None)]}
        for kind in KINDS:
            best = max((key for key in medians if key[0] == kind), key=medians.get)
            row[kind] = medians[best]
            row[kind + "_config"] = describe(kind, best[1])
        row["all"] = ", ".join("%s %s: %.0f" % (KINDS[k], describe(k, c), m)
                               for (k, c), m in medians.items() if k != "dlc")
        row["ratio"] = row["dlc"] / max(row[k] for k in KINDS)
        print("%s, %d threads: dlc %.0f, %s: %.2fx the fastest"
              % (name, threads, row["dlc"], ", ".join(
                  "%s %.0f (%s)" % (KINDS[k], row[k], row[k + "_config"]) for k in KINDS),
                 row["ratio"]), flush=True)
        rows.append(row)
    return rows


def versions():
    def version(python, module):
        return subprocess.run(
            [str(python), "-c", "import %s; print(%s.__version__)" % (module, module)],
            capture_output=True, text=True).stdout.strip()
    return (version(sys.executable, "torch"), version(VENV_PYTHON, "torch"),
            version(VENV_PYTHON, "onnxruntime"))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="fashion-cnn,resnet18")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5,
                        help="untimed steps of the references before timing")
    parser.add_argument("--write", help="markdown file whose section to replace")
    for hidden in ("--worker", "--model", "--onnx", "--x", "--y"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--worker-threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return torch_worker(args) if args.worker == "torch" else ort_worker(args)

    names = args.models.split(",")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error("unknown model %s (expected %s)" % (", ".join(unknown),
                                                          ", ".join(MODELS)))
    if not VENV_PYTHON.exists():
        sys.exit("error: %s is missing; run bench/setup-venv.sh first "
                 "(it installs onnxruntime-training)" % VENV_PYTHON)
    threads_list = [int(t) for t in args.threads.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            rows += benchmark(name, threads_list, args.repeats, args.warmup,
                              pathlib.Path(tmp))

    torch_version, torch2_version, ort_version = versions()
    table = ["| model | threads | dlc (images/s) | PyTorch %s eager, best (images/s) | "
             "PyTorch %s eager, best (images/s) | onnxruntime-training, best (images/s) "
             "| dlc / fastest reference |" % (torch_version, torch2_version),
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        table.append("| %s | %d | %.0f | %s | **%.2fx** |" % (
            MODELS[r["model"]][2], r["threads"], r["dlc"],
            " | ".join("%.0f (%s)" % (r[k], r[k + "_config"]) for k in KINDS), r["ratio"]))
    command = "bench/conv_vs_references.py --models %s --threads %s --repeats %d" % (
        args.models, args.threads, args.repeats)
    report = "\n".join([
        "## CNN training throughput: dlc vs PyTorch eager and onnxruntime-training (CPU)",
        "",
        "- Command: `bench/setup-venv.sh && %s`" % command,
        "- Machine: %s" % machine(),
        "- Date: %s" % datetime.date.today().isoformat(),
        "- Setup: the same ONNX model and initial weights in every system; plain SGD "
        "(lr %g), cross-entropy, BatchNorm on batch statistics. Timed steps: %s. "
        "Median of %d alternating runs. dlc's figure includes its first step; the "
        "references are timed after %d warm-up steps. PyTorch %s (Debian), "
        "PyTorch %s (PyPI, in .venv), "
        "onnxruntime-training %s (PyPI, artifacts generated from the ONNX model). "
        "Each reference is run in every thread configuration within the budget; "
        "its fastest is shown." % (
            LR, ", ".join("%s %d" % (n, MODELS[n][1]) for n in names), args.repeats,
            args.warmup, torch_version, torch2_version, ort_version),
        "", *table, "",
        "All medians (images/s): " + "; ".join(
            "%s at %d threads: %s" % (r["model"], r["threads"], r["all"]) for r in rows),
        "", NOTES])
    publish(report, args.write)


if __name__ == "__main__":
    main()
