"""The GPU check's CNN part, run on the GPU machine by scripts/gpu-check.sh
(PyTorch, torchvision, onnx and numpy there; no dlc compiler). The CUDA
trainers come from `gpu-check.sh prepare`, compiled with --external-weights:
each model's weights are made here, by PyTorch, and handed to the trainer
with --init, so the carried programs stay small and both sides start from
the same values.

1. First-step gradients against PyTorch on the same GPU, TF32 off on both
   sides: the Fashion-MNIST CNN (batch 128), the network of the other ops
   (dlc_tools.export_ops: LRN, transpose, concat, clip, N-D MatMul, softmax,
   pad, log-softmax;
   8 x 8, batch 4), ResNet-18 (64 x 64, batch 4), VGG-16 (224 x 224,
   batch 2, dropout off): per parameter
   ||g - g_torch|| / ||g_torch|| <= 1e-3.
2. The CNN's test accuracy after 2 epochs of Fashion-MNIST (>= 0.88), and
   its losses over 20 steps under a cosine learning-rate schedule with the
   step replayed as a CUDA graph against --no-cuda-graph (<= 1e-5
   relative: the graph must see each step's learning rate).
3. Steady-state step time and device memory of ResNet-50 (batch 64) and
   VGG-16 (batch 32), 224 x 224, SGD with momentum, against PyTorch eager
   and torch.compile, and dlc's time without the CUDA graph and with
   cuDNN's find (--cudnn-find): dlc's peak
   device memory beyond the CUDA context (arena, batch copy, cuDNN and
   cuBLAS handles, the captured graph) against
   torch.cuda.max_memory_allocated.

    python3 -m dlc_tools.gpu_check DEVICE_DIR OUT_DIR [--work DIR] [--skip-compile]

Writes OUT_DIR/gpu-check.json (initial values and data go to --work) and prints one line per result; exits 1 when a
target is missed or a run fails.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

TOLERANCE = 1e-3
GRADIENT_MODELS = [  # name, trainer, image size, batch, classes, train mode
    ("fashion-cnn", "cnn", 28, 128, 10, True),
    ("ops", "ops", 8, 4, 10, True),
    ("resnet18", "resnet18", 64, 4, 10, True),
    ("vgg16", "vgg16", 224, 2, 10, False),
]
TIMED_MODELS = [  # name, trainer, batch
    ("resnet50", "resnet50-b64", 64),
    ("vgg16", "vgg16-b32", 32),
]
TIMED_STEPS = 10


def build(name, classes, seed=0):
    torch.manual_seed(seed)
    if name == "fashion-cnn":
        from dlc_tools.export_cnn import build_fashion_cnn
        return build_fashion_cnn()
    if name == "ops":
        from dlc_tools.export_ops import build_ops_network
        return build_ops_network(seed)
    return getattr(torchvision.models, name)(num_classes=classes)


def write_init(model, path):
    """The model's float state as an ONNX file of initializers alone: what
    the trainer's --init reads (names as the exporter gives them)."""
    tensors = [numpy_helper.from_array(value.detach().cpu().numpy(), name)
               for name, value in model.state_dict().items()
               if value.dtype == torch.float32]
    graph = onnx.helper.make_graph([], "initial_values", [], [], initializer=tensors)
    onnx.save(onnx.helper.make_model(graph), str(path))


def run_trainer(trainer, *args, timeout=300, profile=False):
    """The trainer's JSON summary (with DLC_CUDA_PROFILE's table under
    "profile" when `profile`); raises with its output if it fails."""
    env = dict(os.environ, DLC_CUDA_PROFILE="1" if profile else "0")
    result = subprocess.run([str(trainer), *map(str, args)], capture_output=True,
                            text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s%s" % (
            trainer.name, result.returncode, result.stdout[-3000:], result.stderr[-3000:]))
    summary = json.loads([l for l in result.stdout.splitlines() if l.startswith("{")][-1])
    if profile:
        summary["profile"] = result.stderr[result.stderr.find("DLC_CUDA_PROFILE"):]
    return summary


def random_data(work, label, count, size, channels, classes, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, channels, size, size)).astype(np.float32)
    y = rng.integers(0, classes, count).astype(np.int64)
    paths = work / (label + "-x.npy"), work / (label + "-y.npy")
    np.save(paths[0], x)
    np.save(paths[1], y)
    return x, y, paths


def check_gradients(device, work, name, trainer, size, batch, classes, train_mode):
    model = build(name, classes)
    init = work / (name + "-init.onnx")
    write_init(model, init)
    channels = 1 if name == "fashion-cnn" else 3
    x, y, (xp, yp) = random_data(work, name, batch, size, channels, classes)
    dump = work / (name + "-gradients")
    run_trainer(device / trainer, "--init", init, "--train-x", xp, "--train-y", yp,
                "--steps", 1, "--no-shuffle", "--log-every", 0, "--dump-gradients", dump)

    model = model.cuda().train(train_mode)
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x).cuda()),
                                             torch.from_numpy(y).cuda())
    loss.backward()
    errors = {}
    for pname, param in model.named_parameters():
        tensor = onnx.load_tensor(str(dump / (pname.replace("/", "_") + ".pb")))
        mine = numpy_helper.to_array(tensor).astype(np.float64)
        theirs = param.grad.detach().cpu().numpy().astype(np.float64)
        errors[pname] = float(np.linalg.norm(mine - theirs) / max(np.linalg.norm(theirs), 1e-30))
    worst = max(errors, key=errors.get)
    return {"parameters": len(errors), "max_relative_error": errors[worst],
            "worst_parameter": worst, "passed": errors[worst] <= TOLERANCE}


def cnn_accuracy(device, work):
    model = build("fashion-cnn", 10)
    init = work / "fashion-cnn-init.onnx"
    write_init(model, init)
    summary = run_trainer(device / "cnn", "--init", init, "--data", device / "data",
                          "--epochs", 2, "--log-every", 0, timeout=600)
    return {"test_accuracy": summary["test_accuracy"], "steps": summary["steps"],
            "images_per_second": summary["images_per_second"],
            "passed": summary["test_accuracy"] >= 0.88}


def graph_matches_call_by_call(device, work):
    model = build("fashion-cnn", 10)
    init = work / "fashion-cnn-graph-init.onnx"
    write_init(model, init)
    losses = {}
    for mode, flags in (("graph", []), ("call_by_call", ["--no-cuda-graph"])):
        log = work / ("graph-check-%s.txt" % mode)
        run_trainer(device / "cnn", "--init", init, "--data", device / "data", "--steps", 20,
                    "--no-shuffle", "--log-every", 0, "--lr-schedule", "cosine",
                    "--loss-log", log, *flags)
        losses[mode] = np.loadtxt(log)
    graph, plain = losses["graph"], losses["call_by_call"]
    worst = float(np.max(np.abs(graph - plain) / np.maximum(np.abs(plain), 1e-30)))
    return {"steps": len(plain), "max_relative_difference": worst,
            "first_loss": float(plain[0]), "last_loss": float(plain[-1]),
            "passed": len(graph) == len(plain) == 20 and worst <= 1e-5}


def torch_step_time(model, x, y, steps):
    """Median seconds of a training step after three warm-up steps, and the
    most device memory PyTorch allocated."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    torch.cuda.reset_peak_memory_stats()
    times = []
    for step in range(steps + 3):
        torch.cuda.synchronize()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        torch.cuda.synchronize()
        if step >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times), torch.cuda.max_memory_allocated()


def timed(device, work, name, trainer, batch, profile=False):
    """dlc against PyTorch eager: step time and device memory; with
    `profile`, also where dlc's time goes (3 more steps, each call waited
    for: DLC_CUDA_PROFILE)."""
    model = build(name, 1000)
    init = work / (name + "-timed-init.onnx")
    write_init(model, init)
    x, y, (xp, yp) = random_data(work, name + "-timed", 4 * batch, 224, 3, 1000)
    common = ["--init", init, "--train-x", xp, "--train-y", yp, "--steps", TIMED_STEPS,
              "--epochs", 1000, "--log-every", 0]
    summary = run_trainer(device / trainer, *common, timeout=600)
    plain = run_trainer(device / trainer, *common, "--no-cuda-graph", timeout=600)
    found = run_trainer(device / trainer, *common, "--cudnn-find", timeout=600)
    result = {"batch": batch, "dlc_step_seconds": summary["step_seconds"],
              "dlc_call_by_call_step_seconds": plain["step_seconds"],
              "dlc_cudnn_find_step_seconds": found["step_seconds"],
              "dlc_arena_bytes": summary["arena_bytes"],
              "dlc_peak_device_bytes": summary.get("peak_device_bytes")}
    if profile:
        result["dlc_profile"] = run_trainer(
            device / trainer, "--init", init, "--train-x", xp, "--train-y", yp, "--steps", 3,
            "--log-every", 0, profile=True)["profile"]
    eager = model.cuda().train()
    result["eager_step_seconds"], result["eager_max_allocated_bytes"] = torch_step_time(
        eager, torch.from_numpy(x[:batch]).cuda(), torch.from_numpy(y[:batch]).cuda(),
        TIMED_STEPS)
    result["step_vs_eager"] = result["dlc_step_seconds"] / result["eager_step_seconds"]
    result["memory_vs_eager"] = (result["dlc_peak_device_bytes"] or result["dlc_arena_bytes"]) \
        / result["eager_max_allocated_bytes"]
    result["targets_met"] = result["step_vs_eager"] <= 0.8 and result["memory_vs_eager"] <= 0.8
    del eager
    torch.cuda.empty_cache()
    return result


def compiled(name, batch, dlc_step_seconds):
    """torch.compile's step time (after its compilation) against dlc's."""
    start = time.perf_counter()
    model = torch.compile(build(name, 1000).cuda().train())
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)).cuda()
    y = torch.from_numpy(rng.integers(0, 1000, batch)).cuda()
    seconds, allocated = torch_step_time(model, x, y, TIMED_STEPS)
    result = {"compile_step_seconds": seconds, "compile_max_allocated_bytes": allocated,
              "seconds_with_compilation": time.perf_counter() - start,
              "step_vs_compile": dlc_step_seconds / seconds}
    result["targets_met"] = result["step_vs_compile"] <= 1.0
    torch.cuda.empty_cache()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("device", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path("/tmp/dlc-gpu-check"),
                        help="where the initial values, data and gradients go")
    parser.add_argument("--profile", action="store_true",
                        help="also profile dlc's timed models (DLC_CUDA_PROFILE)")
    parser.add_argument("--only", help="comma-separated parts to run (e.g. gradients-ops)")
    parser.add_argument("--skip-compile", action="store_true",
                        help="leave torch.compile out of the timings")
    args = parser.parse_args()
    # TF32 off on PyTorch's side; dlc asks cuDNN and cuBLAS for fp32.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__}
    failed = False

    def record(key, compute):
        nonlocal failed
        if args.only and key not in args.only.split(","):
            return
        start = time.perf_counter()
        try:
            value = compute()
        except Exception as error:  # noqa: BLE001 - every part reports
            value = {"error": str(error)[-4000:], "passed": False}
        value["seconds"] = round(time.perf_counter() - start, 1)
        results[key] = value
        failed |= not value.get("passed", value.get("targets_met", True)) or "error" in value
        print("gpu-check:", key, json.dumps(value), flush=True)
        (args.out / "gpu-check.json").write_text(json.dumps(results, indent=2) + "\n")

    for name, trainer, size, batch, classes, train_mode in GRADIENT_MODELS:
        record("gradients-" + name, lambda: check_gradients(
            args.device, work, name, trainer, size, batch, classes, train_mode))
    record("fashion-cnn-accuracy", lambda: cnn_accuracy(args.device, work))
    record("graph-matches-call-by-call", lambda: graph_matches_call_by_call(args.device, work))
    for name, trainer, batch in TIMED_MODELS:
        record("timing-%s-b%d" % (name, batch),
               lambda: timed(args.device, work, name, trainer, batch, args.profile))
    # torch.compile last: its compilation takes the longest.
    for name, trainer, batch in TIMED_MODELS if not args.skip_compile else []:
        dlc = results.get("timing-%s-b%d" % (name, batch), {}).get("dlc_step_seconds")
        if dlc:
            record("compile-%s-b%d" % (name, batch), lambda: compiled(name, batch, dlc))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
