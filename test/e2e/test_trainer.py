"""The trainer as users run it: Fashion-MNIST accuracy, data-parallel runs
under mpirun, data formats, saving the trained model, the CUDA target."""
import gzip
import os
import struct

import numpy as np
import onnx
import pytest

import models
from conftest import (DLC, FASHION_MNIST, ROOT, compile_model, run,
                      save_npy_dataset, train)

MLP = ROOT / "models" / "mlp.onnx"


def test_fashion_mnist_mlp_reaches_target_accuracy(workdir):
    """The issue's result: MLP 784-512-256-10, batch 128, SGD lr 0.05
    momentum 0.9, one epoch: test accuracy >= 0.82. The saved model passes
    onnx.checker and compiles again."""
    exe = compile_model(MLP, workdir / "trainer", "--batch", 128, "--lr", 0.05,
                        "--momentum", 0.9)
    saved = workdir / "trained.onnx"
    result = train(exe, "--data", FASHION_MNIST, "--epochs", 1, "--save", saved)
    assert result.returncode == 0, result
    assert result.json["epochs"] == 1 and result.json["steps"] == 468
    assert result.json["test_accuracy"] >= 0.82, result
    assert "epoch 1 step 100/468 loss" in result.stdout
    onnx.checker.check_model(onnx.load(str(saved)))
    again = run([DLC, saved, "--emit=training", "--batch", 16])
    assert again.returncode == 0, again


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("overlap", ["next-forward", "backward", "backward-late", "none"])
def test_ranks_match_one_rank_with_the_global_batch(mpi_trainers, overlap, ranks):
    """mpirun -np 2 of a batch-32 build (and -np 4 of a batch-16 one)
    trains like -np 1 of a batch-64 build over 40 steps: the same global
    shuffle, each rank a slice, gradients averaged, whether each allreduce
    is waited for in the next step before its layer's forward
    (next-forward), overlaps the rest of the backward pass (backward;
    backward-late waits at the end of the step) or is waited for at once
    (--overlap=none)."""
    name = "b%d%s" % (64 // ranks, "" if overlap == "next-forward" else "-" + overlap)
    args = ["--data", FASHION_MNIST, "--steps", 40, "--seed", 7, "--log-every", 10]
    several = train(mpi_trainers[name], *args, ranks=ranks)
    one = train(mpi_trainers["b64"], *args)
    assert several.returncode == 0, several
    assert one.returncode == 0, one
    assert several.json["steps"] == one.json["steps"] == 40
    assert several.json["last_loss"] == pytest.approx(one.json["last_loss"], rel=1e-4)
    # Only rank 0 prints: one banner, one JSON line.
    assert several.stdout.count("dlc trainer:") == 1
    assert sum(l.startswith("{") for l in several.stdout.splitlines()) == 1
    assert "%d rank(s) x batch %d" % (ranks, 64 // ranks) in several.stdout


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("overlap", ["next-forward", "backward"])
def test_averages_sent_by_priority_match_one_rank(mpi_trainers, overlap, ranks):
    """DLC_COMM_ORDER=priority: the ranks agree in rounds on which average
    to send next (the one needed first, in 4 KiB chunks, two on the wire
    at a time), and still train as one rank does on the global batch."""
    name = "b%d%s" % (64 // ranks, "" if overlap == "next-forward" else "-" + overlap)
    args = ["--data", FASHION_MNIST, "--steps", 20, "--seed", 5, "--log-every", 0]
    several = train(mpi_trainers[name], *args, ranks=ranks,
                    env={"DLC_COMM_ORDER": "priority", "DLC_COMM_CHUNK_BYTES": "4096"})
    one = train(mpi_trainers["b64"], *args)
    assert several.returncode == 0, several
    assert one.returncode == 0, one
    assert several.json["last_loss"] == pytest.approx(one.json["last_loss"], rel=1e-4)


def test_an_unknown_sending_order_is_reported(mpi_trainers):
    result = train(mpi_trainers["b32"], "--data", FASHION_MNIST, "--steps", 2,
                   "--log-every", 0, ranks=2, env={"DLC_COMM_ORDER": "fastest"})
    assert result.returncode == 0, result
    assert "DLC_COMM_ORDER='fastest' is neither 'program' nor 'priority'" in result.stderr


def test_chunked_averages_match_one_rank(mpi_trainers):
    """Averages sent as a pipeline of small chunks (4 KiB: fc1's gradient
    in 392, the bucket of the others in 131), each scaled to the mean as it
    arrives, train as one rank does on the global batch."""
    args = ["--data", FASHION_MNIST, "--steps", 20, "--seed", 3, "--log-every", 0]
    chunked = train(mpi_trainers["b32"], *args, ranks=2,
                    env={"DLC_COMM_CHUNK_BYTES": "4096"})
    one = train(mpi_trainers["b64"], *args)
    assert chunked.returncode == 0, chunked
    assert one.returncode == 0, one
    assert chunked.json["last_loss"] == pytest.approx(one.json["last_loss"], rel=1e-4)


@pytest.mark.parametrize("env, sums", [
    # Between two ranks on one machine a sum takes tens of microseconds
    # and the link carries gigabytes a second: 9 alpha beta is megabytes.
    ({}, 2),
    ({"DLC_COMM_BUCKET_BYTES": "0"}, 6),
    # 9 x 2 ms x 10 Gbit/s = 22.5 MB, 16 MiB as a power of two: the five
    # smaller gradients that the compiler placed together (538 KB) share
    # one collective; fc1's weight gradient (1.6 MB) is alone.
    ({"DLC_COMM_EMULATE_LINK": "2000:10"}, 2),
    ({"DLC_COMM_BUCKET_BYTES": "16384"}, 4),
], ids=["measured-link", "alone", "emulated-link", "16KiB"])
def test_runtime_buckets_follow_the_link(mpi_trainers, env, sums):
    """Built without --comm-alpha/--comm-beta, the trainer buckets by the
    link: allreduces per step follow the bucket size (at 16 KiB fc3's
    gradients and fc2's bias, the first three to start, share one), and
    every bucketing trains as one rank does on the global batch."""
    args = ["--data", FASHION_MNIST, "--steps", 20, "--seed", 9, "--log-every", 0]
    several = train(mpi_trainers["b32"], *args, ranks=2, env=env)
    one = train(mpi_trainers["b64"], *args)
    assert several.returncode == 0, several
    assert one.returncode == 0, one
    assert several.json["allreduces_per_step"] == sums
    emulated = "DLC_COMM_EMULATE_LINK" in env
    assert (several.json["sum_latency_us"] > 0) != emulated
    assert several.json["last_loss"] == pytest.approx(one.json["last_loss"], rel=1e-4)
    assert one.json["allreduces_per_step"] is None


def test_an_unreadable_bucket_size_is_reported(mpi_trainers):
    result = train(mpi_trainers["b32"], "--data", FASHION_MNIST, "--steps", 2,
                   "--log-every", 0, ranks=2, env={"DLC_COMM_BUCKET_BYTES": "lots"})
    assert result.returncode == 0, result
    assert "DLC_COMM_BUCKET_BYTES='lots' is not a number of bytes" in result.stderr
    assert "averaged together up to" in result.stdout


def test_runs_under_mpirun_are_deterministic(mpi_trainers, workdir):
    """Two runs of two ranks, with averages overlapping the backward pass,
    log the same losses to the last digit."""
    logs = []
    for run_index in range(2):
        log = workdir / ("loss-%d.txt" % run_index)
        result = train(mpi_trainers["b32"], "--data", FASHION_MNIST, "--steps", 20,
                       "--log-every", 0, "--loss-log", log, ranks=2)
        assert result.returncode == 0, result
        logs.append(log.read_text())
    assert logs[0] == logs[1] and len(logs[0].splitlines()) == 20


def test_ranks_of_different_programs_stop_with_a_message(mpi_trainers, workdir):
    """Each rank compares a hash of its compiled step at start-up: two
    builds of the same model and flags agree and train; builds that differ
    (here only in where the allreduce waits go) stop at once, every rank
    saying why, instead of mixing each other's tensors."""
    args = ["--data", FASHION_MNIST, "--steps", 2, "--log-every", 0]
    again = compile_model(MLP, workdir / "b32-again", "--batch", 32, "--lr", 0.05,
                          "--momentum", 0.9, "--overlap=next-forward")
    mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    same = run(mpirun + ["-np", 1, mpi_trainers["b32"], *args, ":", "-np", 1, again, *args],
               env=env)
    assert same.returncode == 0, same
    differ = run(mpirun + ["-np", 1, mpi_trainers["b32"], *args, ":",
                           "-np", 1, mpi_trainers["b32-none"], *args], env=env)
    assert differ.returncode != 0
    assert differ.stderr.count("run different programs") == 2, differ
    assert "start every rank from the same executable" in differ.stderr


def write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_idx_and_npy_data_train_identically(workdir, compress):
    """IDX (raw or gzip) and .npy, uint8 or float32 samples: uint8 is scaled
    to [0,1], so all four give the same losses."""
    model = models.torch_mlp(workdir / "m.onnx", sizes=(16, 8, 10))
    exe = compile_model(model, workdir / "t", "--batch", 8)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 4, 4)).astype(np.uint8)
    labels = rng.integers(0, 10, 64).astype(np.uint8)
    suffix = ".gz" if compress else ""
    idx_dir = workdir / "idx"
    idx_dir.mkdir()
    write_idx(idx_dir / ("train-images-idx3-ubyte" + suffix), images, compress)
    write_idx(idx_dir / ("train-labels-idx1-ubyte" + suffix), labels, compress)
    common = ["--no-shuffle", "--steps", 8, "--log-every", 0]
    from_idx = train(exe, "--data", idx_dir, *common)
    xu, yu = save_npy_dataset(workdir, images.reshape(64, 16), labels.astype(np.int64), "u8")
    from_u8 = train(exe, "--train-x", xu, "--train-y", yu, *common)
    xf, yf = save_npy_dataset(workdir, images.reshape(64, 16).astype(np.float32) / 255,
                              labels.astype(np.int32), "f32")
    from_f32 = train(exe, "--train-x", xf, "--train-y", yf, *common)
    for result in (from_idx, from_u8, from_f32):
        assert result.returncode == 0, result
    assert from_idx.json["last_loss"] == from_u8.json["last_loss"]
    assert from_u8.json["last_loss"] == pytest.approx(from_f32.json["last_loss"], rel=1e-6)
    assert from_idx.json["test_accuracy"] is None


def test_test_set_accuracy_counts_a_partial_last_batch(workdir):
    """--test-x/--test-y with a test set that is not a multiple of the batch:
    every sample counts once (checked against the trained model in PyTorch)."""
    import torch
    from dlc_tools.torch_reference import OnnxModule
    model = models.torch_mlp(workdir / "m.onnx", sizes=(6, 10, 3))
    exe = compile_model(model, workdir / "t", "--batch", 8, "--lr", 0.5)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    xt, yt = x[:29], y[:29]
    paths = save_npy_dataset(workdir, x, y) + save_npy_dataset(workdir, xt, yt, "test")
    saved = workdir / "trained.onnx"
    result = train(exe, "--train-x", paths[0], "--train-y", paths[1], "--test-x", paths[2],
                   "--test-y", paths[3], "--epochs", 3, "--save", saved, "--log-every", 0)
    assert result.returncode == 0, result
    module = OnnxModule(onnx.load(str(saved)))
    with torch.no_grad():
        predicted = module(torch.from_numpy(xt)).argmax(1).numpy()
    assert result.json["test_accuracy"] == pytest.approx((predicted == yt).mean())


def test_cuda_target_compiles_and_fails_cleanly_without_a_gpu(workdir):
    """--target=cuda builds a CUDA executable with nvcc; on a machine without
    a GPU it stops with a clear message instead of crashing."""
    exe = compile_model(MLP, workdir / "trainer-cuda", "--target=cuda", "--batch", 128)
    assert os.access(exe, os.X_OK)
    source = run([DLC, MLP, "--emit=source", "--target=cuda"])
    assert "Generated by dlc for the CUDA runtime" in source.stdout
    result = train(exe, "--data", FASHION_MNIST, "--steps", 1)
    if result.returncode == 0:
        pytest.skip("this machine has a GPU; scripts/gpu-check.sh covers it")
    assert result.returncode == 1, result
    assert "error: CUDA" in result.stderr, result


def test_gpu_check_prepares_and_stops_before_the_gpu_run():
    """scripts/gpu-check.sh on a machine without a GPU: builds the CUDA
    executable with what it needs, checks that it loads, then says it stopped
    before the GPU run (exit status 3)."""
    result = run(["bash", ROOT / "scripts" / "gpu-check.sh"])
    if "gpu-check: NVIDIA" in result.stdout or result.returncode == 0:
        pytest.skip("this machine has a GPU")
    assert result.returncode == 3, result
    assert "prepared device/" in result.stdout
    assert "no NVIDIA GPU here" in result.stdout and "stopped before training" in result.stdout
    assert "cannot load" not in result.stdout
    assert (ROOT / "device" / "trainer").exists()


def test_fashion_mnist_cnn_reaches_target_accuracy(workdir):
    """Issue 3's result: a LeNet-style CNN (conv-relu-pool x2, fc-relu-fc),
    batch 128, SGD lr 0.05 momentum 0.9, two epochs: test accuracy >= 0.88."""
    model = models.torch_fashion_cnn(workdir / "cnn.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", 128, "--lr", 0.05,
                        "--momentum", 0.9)
    result = train(exe, "--data", FASHION_MNIST, "--epochs", 2, "--threads", 2,
                   "--log-every", 0)
    assert result.returncode == 0, result
    assert result.json["steps"] == 936
    assert result.json["test_accuracy"] >= 0.88, result


def test_both_targets_train_batch_norm_with_the_fused_kernels(workdir):
    """Batch norm in training form is one library call each way on both
    targets (oneDNN, cuDNN), not elementwise arithmetic."""
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8),
                                torch.nn.ReLU(), torch.nn.Linear(8, 3))
    path = workdir / "bn_mlp.onnx"
    torch.onnx.export(model, torch.zeros(4, 6), str(path), input_names=["input"],
                      output_names=["output"], opset_version=15,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    for target in ("cuda", "cpu"):
        source = run([DLC, path, "--batch", 4, "--emit=source", "--target=" + target])
        assert source.returncode == 0, source
        assert "batchNormTraining(" in source.stdout, target
        assert "batchNormTrainingGrad(" in source.stdout, target


@pytest.mark.parametrize("stage", ["mlir", "training", "lowered"])
def test_any_stage_builds_the_same_trainer(workdir, stage):
    """`dlc model.STAGE.mlir -o trainer` builds the trainer `dlc model.onnx`
    builds: the IR carries the initial values and the ONNX model."""
    model = models.torch_bn_cnn(workdir / "bn.onnx")
    flags = ["--batch", 4, "--momentum", 0.9]
    rng = np.random.default_rng(0)
    x, y = save_npy_dataset(workdir, rng.standard_normal((8, 2, 6, 6)).astype(np.float32),
                            rng.integers(0, 3, 8))
    direct = compile_model(model, workdir / "direct", *flags)
    staged = workdir / ("model.%s.mlir" % stage)
    compile_model(model, staged, *flags, "--emit=%s" % stage)
    from_ir = compile_model(staged, workdir / "from-ir", *flags)
    outputs = []
    for exe in (direct, from_ir):
        out = workdir / (exe.name + ".onnx")
        result = train(exe, "--train-x", x, "--train-y", y, "--steps", 3, "--epochs", 3,
                       "--save", out)
        assert result.returncode == 0, result
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
