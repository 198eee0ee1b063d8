"""./trainer --rounding=stochastic: gradients rounded stochastically are the
exact gradients on average. An MLP whose weight gradients a plan keeps in
int8, coarse enough that rounding moves them; the first step's gradients of
many seeds against PyTorch autograd's fp32 gradients (no dlc in the
reference), and against rounding to nearest, which is biased."""
import math

import numpy as np

import models
from conftest import compile_model, run, save_npy_dataset, train
from test_precision_plan import reference_gradients
from test_training_vs_pytorch import initializers, make_data

BATCH, LR, SEEDS = 8, 100.0, 32


def int8_plan(exact):
    """Each weight gradient in int8 with 2^5 steps below its largest value:
    coarse, and never saturating."""
    tensors = []
    for name, gradient in exact.items():
        top = math.floor(math.log2(np.abs(gradient).max()))
        tensors.append({"name": name + ":grad", "format": "int8", "exponent": top - 5})
    return {"default": "fp32", "tensors": tensors}


def first_step(exe, data, model, *flags):
    saved = exe.parent / "trained.onnx"
    result = train(exe, "--train-x", data[0], "--train-y", data[1], "--no-shuffle",
                   "--steps", 1, "--log-every", 0, "--save", saved, *flags)
    assert result.returncode == 0, result
    trained, initial = initializers(saved), initializers(model)
    return {n: (initial[n].astype(np.float64) - trained[n]) / LR for n in initial}


def test_stochastic_rounding_is_unbiased_where_nearest_is_not(workdir):
    import json
    model = models.torch_mlp(workdir / "model.onnx")
    x, y = make_data((20,), 5, BATCH, seed=31)
    exact = reference_gradients(model, {"tensors": []}, x, y)
    plan = int8_plan(exact)
    (workdir / "plan.json").write_text(json.dumps(plan))
    exe = compile_model(model, workdir / "trainer", "--batch", BATCH, "--lr", LR,
                        "--momentum", 0, "--precision-plan", workdir / "plan.json")
    data = save_npy_dataset(workdir, x, y)
    step = {t["name"][:-len(":grad")]: 2.0 ** t["exponent"] for t in plan["tensors"]}

    nearest = first_step(exe, data, model, "--rounding", "nearest")
    runs = [first_step(exe, data, model, "--rounding", "stochastic", "--seed", s)
            for s in range(1, SEEDS + 1)]
    for name in exact:
        for gradients in [nearest] + runs:
            # On the int8 grid (the division by the learning rate leaves
            # fp32's rounding of the update).
            codes = gradients[name] / step[name]
            assert np.abs(codes - np.round(codes)).max() < 1e-3, name
            assert np.abs(codes).max() <= 127.5, name
        assert not np.array_equal(runs[0][name], runs[1][name]), "the same bits twice"
        # Each value goes to one of its two neighbours on the grid.
        lower = np.floor(exact[name] / step[name] + 1e-9) * step[name]
        for gradients in runs:
            assert np.all((np.abs(gradients[name] - lower) < 1e-3 * step[name]) |
                          (np.abs(gradients[name] - lower - step[name]) < 1e-3 * step[name]))
        mean = np.mean([r[name] for r in runs], axis=0)
        biased = np.linalg.norm(nearest[name] - exact[name])
        unbiased = np.linalg.norm(mean - exact[name])
        # Nearest is off by about step / sqrt(12) per value, always the same
        # way; the mean of 32 stochastic roundings by at most step / 2 /
        # sqrt(32) = 0.09 step.
        assert biased > 0.2 * step[name] * math.sqrt(exact[name].size), name
        assert unbiased < 0.5 * biased, (name, unbiased, biased)


def test_stochastic_rounding_needs_a_program_with_formats(workdir):
    model = models.torch_mlp(workdir / "model.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", BATCH)
    x, y = make_data((20,), 5, BATCH, seed=31)
    xp, yp = save_npy_dataset(workdir, x, y)
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1,
                   "--rounding", "stochastic")
    assert result.returncode != 0
    assert "--rounding=stochastic: this trainer was compiled without number formats" \
        in result.stderr, result
    result = run([exe, "--rounding", "up"])
    assert result.returncode != 0
    assert "--rounding: 'up' is not one of nearest, stochastic" in result.stderr, result
