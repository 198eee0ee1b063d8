#!/usr/bin/env python3
"""Training throughput of a dlc executable against PyTorch eager on the
bundled MLP (784-512-256-10, ReLU), Fashion-MNIST, SGD with momentum.

Both sides start from the same ONNX weights, use the same batch and thread
count, and time only the training steps (batch gather, forward, loss,
backward, update). The two are run alternately, --repeats times each, and
the medians are compared, so machine noise hits both alike.

Usage: bench/mlp_vs_pytorch.py [--threads 1,2] [--steps 300] [--repeats 5]
                               [--write docs/benchmarks.md]

--write replaces this benchmark's section of that file.
"""
import argparse
import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from report import machine, publish  # noqa: E402
MODEL = ROOT / "models" / "mlp.onnx"
DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")
BATCH, LR, MOMENTUM = 128, 0.05, 0.9


def load_weights(weights_path):
    """The MLP's initial weights: from a .npz (made by gpu-check.sh for
    machines without the onnx module) or from the ONNX model."""
    import numpy as np
    if weights_path:
        return dict(np.load(weights_path))
    import onnx
    from onnx import numpy_helper
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(MODEL)).graph.initializer}


NOTES = """Why the gap is this large: dlc's CPU backend multiplies matrices with oneDNN,
whose JIT uses this Xeon's AVX-512. Debian's PyTorch 1.13 calls the system
BLAS (OpenBLAS 0.3.21), which does not recognise this CPU and falls back to
its SSE3 ("Prescott") kernels: in a standalone check on this machine,
oneDNN's sgemm ran 128x512x784 products at about 125 GFLOP/s on one thread
against OpenBLAS's 17. The comparison is what a user of Debian's packages
gets on this machine, not a claim about PyTorch with MKL.

With two threads PyTorch is fastest with one intra-op thread over a
two-threaded OpenBLAS (OpenMP and OpenBLAS's own thread pool contend
otherwise), so that configuration is the reference there.
"""


def torch_worker(threads, steps, device="cpu", data=DATA, weights_path=None):
    """Runs in a fresh process so that the BLAS thread settings take effect."""
    import gzip
    import time

    import numpy as np
    import torch
    sys.path.insert(0, str(ROOT / "python"))
    from dlc_tools.export_mlp import MLP

    torch.set_num_threads(threads)
    model = MLP([784, 512, 256, 10])
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in load_weights(weights_path).items()})
    model.to(device)
    data = pathlib.Path(data)
    with gzip.open(data / "train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(data / "train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(x.astype(np.float32) / 255).to(device)
    y = torch.from_numpy(y.astype(np.int64)).to(device)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(i):
        index = order[(i % (len(x) // BATCH)) * BATCH:][:BATCH]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()

    for i in range(10):  # warm-up, as the first steps allocate
        step(i)
    if device != "cpu":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    if device != "cpu":
        torch.cuda.synchronize()
    print(json.dumps({"images_per_second": steps * BATCH / (time.perf_counter() - start)}))


def torch_configurations(threads):
    """(torch intra-op threads, BLAS threads) tried for a thread budget: with
    both at the budget, OpenMP and OpenBLAS's own pool contend, so torch with
    one intra-op thread over a threaded BLAS is tried too."""
    return sorted({(threads, threads), (1, threads)})


def run_torch(config, steps):
    torch_threads, blas_threads = config
    env = dict(os.environ, OMP_NUM_THREADS=str(torch_threads),
               OPENBLAS_NUM_THREADS=str(blas_threads))
    out = subprocess.run([sys.executable, __file__, "--torch-worker", str(torch_threads),
                          "--steps", str(steps)], env=env, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_second"]


def run_dlc(exe, threads, steps):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([exe, "--data", DATA, "--steps", str(steps), "--threads",
                          str(threads), "--log-every", "0"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", help="markdown file to write the results to")
    parser.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    parser.add_argument("--data", default=str(DATA), help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker, args.steps, args.device, args.data, args.weights)

    dlc = ROOT / "build" / "bin" / "dlc"
    with tempfile.TemporaryDirectory() as tmp:
        exe = pathlib.Path(tmp) / "trainer"
        subprocess.run([dlc, MODEL, "-o", exe, "--batch", str(BATCH), "--lr", str(LR),
                        "--momentum", str(MOMENTUM)], check=True)
        rows = []
        for threads in [int(t) for t in args.threads.split(",")]:
            configs = torch_configurations(threads)
            dlc_rates, torch_rates = [], {c: [] for c in configs}
            for _ in range(args.repeats):
                dlc_rates.append(run_dlc(exe, threads, args.steps))
                for config in configs:
                    torch_rates[config].append(run_torch(config, args.steps))
            d = statistics.median(dlc_rates)
            medians = {c: statistics.median(r) for c, r in torch_rates.items()}
            best = max(medians, key=medians.get)
            t = medians[best]
            detail = ", ".join("torch %d/BLAS %d: %.0f" % (c[0], c[1], m)
                               for c, m in sorted(medians.items()))
            rows.append((threads, d, t, "%d/%d" % best, d / t, detail))
            print("threads %d: dlc %.0f img/s, PyTorch best %.0f img/s (%s), ratio %.2f"
                  % (threads, d, t, detail, d / t), flush=True)

    command = "bench/mlp_vs_pytorch.py --threads %s --steps %d --repeats %d" % (
        args.threads, args.steps, args.repeats)
    table = ["| threads | dlc (images/s) | PyTorch eager, best (images/s) | "
             "PyTorch torch/BLAS threads | dlc / PyTorch | all PyTorch medians |",
             "|---:|---:|---:|---:|---:|---|"]
    table += ["| %d | %.0f | %.0f | %s | **%.2fx** | %s |" % row for row in rows]
    report = "\n".join([
        "## MLP training throughput: dlc vs PyTorch eager (CPU)", "",
        "- Command: `%s`" % command,
        "- Machine: %s" % machine(),
        "- Date: %s" % datetime.date.today().isoformat(),
        "- Setup: models/mlp.onnx (784-512-256-10, ReLU), Fashion-MNIST, batch %d, "
        "SGD lr %g momentum %g, same initial weights; %d timed steps, median of %d "
        "alternating runs each. PyTorch %s (Debian, on OpenBLAS), run at each "
        "torch/BLAS thread split that fits the budget; the faster is the "
        "reference." % (
            BATCH, LR, MOMENTUM, args.steps, args.repeats, _torch_version()),
        "", *table, "", NOTES])
    publish(report, args.write)


def _torch_version():
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
