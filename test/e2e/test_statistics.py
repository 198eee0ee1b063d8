"""dlc --tensor-stats and the trainer's --stats-every: the statistics of a small
MLP's first step against what numpy and PyTorch compute from the same
weights and batch: the parameters' and the input's histograms exactly, the
ReLU's output and the weight gradient's up to the odd value that rounds
across a power of two."""
import json

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from conftest import DLC, compile_model, run, save_npy_dataset, train
from models import torch_mlp

BATCH, SIZES = 32, (20, 16, 12, 5)


def histogram(values):
    """{position: count} of the finite nonzero values' leading bits."""
    values = np.asarray(values, np.float64).ravel()
    values = values[np.isfinite(values) & (values != 0)]
    _, exponents = np.frexp(values)
    positions, counts = np.unique(exponents - 1, return_counts=True)
    return {int(p): int(c) for p, c in zip(positions, counts)}


def moved(ours, theirs):
    """How many values sit at another position than the reference's."""
    keys = set(ours) | set(theirs)
    return sum(abs(ours.get(k, 0) - theirs.get(k, 0)) for k in keys) // 2


@pytest.fixture
def mlp_run(workdir):
    model = torch_mlp(workdir / "mlp.onnx", SIZES, seed=3)
    exe = compile_model(model, workdir / "trainer", "--tensor-stats", "--batch", BATCH,
                        "--lr", 0.1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH).astype(np.int64)
    xp, yp = save_npy_dataset(workdir, x, y)
    return model, exe, x, y, xp, yp


def test_the_first_steps_statistics_match_numpy_and_pytorch(workdir, mlp_run):
    model, exe, x, y, xp, yp = mlp_run
    out = workdir / "stats.json"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1,
                   "--stats-every", 1, "--stats-out", out, "--log-every", 0)
    assert result.returncode == 0, result
    stats = json.loads(out.read_text())
    assert stats["steps"] == 1
    tensors = {t["name"]: t for t in stats["tensors"]}
    kinds = {t["kind"] for t in stats["tensors"]}
    assert kinds == {"weight", "activation", "activation_gradient", "weight_gradient"}

    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(model).graph.initializer}
    for name, value in weights.items():
        t = tensors[name]
        assert t["kind"] == "weight" and t["elements"] == value.size
        assert {int(k): v for k, v in t["histogram"].items()} == histogram(value), name
        assert t["abs_max"] == pytest.approx(float(np.abs(value).max()), rel=1e-7)
    assert {int(k): v for k, v in tensors["input"]["histogram"].items()} == histogram(x)

    # PyTorch on the same weights and batch: the first ReLU's output and
    # the first layer's weight gradient.
    w1 = torch.tensor(weights["fc1.weight"], requires_grad=True)
    h = torch.tensor(x) @ w1.T + torch.tensor(weights["fc1.bias"])
    relu = torch.relu(h)
    logits = relu
    for layer in (2, 3):
        logits = logits @ torch.tensor(weights["fc%d.weight" % layer]).T + \
            torch.tensor(weights["fc%d.bias" % layer])
        if layer < 3:
            logits = torch.relu(logits)
    torch.nn.functional.cross_entropy(logits, torch.tensor(y)).backward()
    for name, reference in [("/Relu", relu.detach().numpy()),
                            ("fc1.weight:grad", w1.grad.numpy())]:
        t = tensors[name]
        ours = {int(k): v for k, v in t["histogram"].items()}
        assert moved(ours, histogram(reference)) <= max(1, reference.size // 500), name
        assert t["zeros"] == pytest.approx(int((reference == 0).sum()), abs=reference.size // 500)
        assert t["abs_max"] == pytest.approx(float(np.abs(reference).max()), rel=1e-4)
        assert t["values"] == reference.size and t["non_finite"] == 0


def test_statistics_are_gathered_every_n_steps_only(workdir, mlp_run):
    _, exe, x, _, xp, yp = mlp_run
    out = workdir / "stats.json"
    # Steps 1 and 3 of 4.
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 4, "--epochs", 4,
                   "--stats-every", 2, "--stats-out", out, "--log-every", 0)
    assert result.returncode == 0, result
    stats = json.loads(out.read_text())
    assert stats["steps"] == 2
    tensors = {t["name"]: t for t in stats["tensors"]}
    assert tensors["input"]["values"] == 2 * x.size
    assert tensors["fc1.weight"]["values"] == 2 * SIZES[0] * SIZES[1]


def test_statistics_flags_are_checked(workdir, mlp_run):
    model, exe, _, _, xp, yp = mlp_run
    result = train(exe, "--train-x", xp, "--train-y", yp, "--stats-every", 1)
    assert result.returncode != 0 and "--stats-every needs --stats-out" in result.stderr
    plain = compile_model(model, workdir / "plain", "--batch", BATCH)
    result = train(plain, "--train-x", xp, "--train-y", yp, "--steps", 1,
                   "--stats-every", 1, "--stats-out", workdir / "s.json")
    assert result.returncode != 0 and "compiled without statistics" in result.stderr
    assert not (workdir / "s.json").exists()
    result = run([DLC, model, "--tensor-stats", "--target=cuda", "-o", workdir / "cuda"])
    assert result.returncode != 0 and "--tensor-stats is for --target=cpu" in result.stderr
