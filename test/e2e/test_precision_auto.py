"""dlc --precision=auto: the trainer calibrates in fp32, then gives each
tensor the narrowest format its statistics fit (checked here against the
formats' ranges, by brute force over exponents, from the statistics the
trainer wrote), and raises a tensor's exponent when a step overflows it."""
import json

import numpy as np
import pytest

import models
from conftest import compile_model, save_npy_dataset, train

BATCH = 32
# Each format's bits and the leading-bit positions it holds unscaled
# (smallest subnormal to largest finite value), and its largest value.
FORMATS = {"int8": (8, 0, 6, 127.0), "fp8e4m3": (8, -9, 8, 448.0),
           "fp8e5m2": (8, -16, 15, 57344.0), "int16": (16, 0, 14, 32767.0),
           "fp16": (16, -24, 15, 65504.0), "bf16": (16, -133, 127, 3.3895313892515355e38),
           "fp32": (32, -149, 127, 3.4028234663852886e38)}
OVERFLOW, UNDERFLOW = 1e-4, 1e-3


def shares(tensor, fmt, exponent):
    """The shares of a tensor's nonzero values above and below the format's
    range at that exponent (a top position the largest value does not
    reach counts as above)."""
    _, lowest, highest, largest = FORMATS[fmt]
    histogram = {int(p): c for p, c in tensor["histogram"].items()}
    placed = sum(histogram.values())
    top = highest + exponent
    above = sum(c for p, c in histogram.items() if p > top)
    if histogram.get(top) and max(histogram) == top and \
            tensor["abs_max"] > np.ldexp(largest, exponent):
        above += histogram[top]
    below = sum(c for p, c in histogram.items() if p < lowest + exponent)
    return above / placed, below / placed


def fits(tensor, fmt, exponent):
    above, below = shares(tensor, fmt, exponent)
    return above <= OVERFLOW and below <= UNDERFLOW


def run_auto(workdir, x, y, steps, *flags):
    model = models.torch_mlp(workdir / "model.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", BATCH, "--lr", 0.05,
                        "--precision=auto")
    xp, yp = save_npy_dataset(workdir, x, y)
    plan, stats = workdir / "plan.json", workdir / "stats.json"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle", "--steps", steps,
                   "--log-every", 0, "--precision-plan-out", plan, "--stats-out", stats, *flags)
    assert result.returncode == 0, result
    return result, json.loads(plan.read_text()), json.loads(stats.read_text())


def test_calibration_gives_each_tensor_the_narrowest_format_its_statistics_fit(workdir):
    rng = np.random.default_rng(30)
    x = rng.standard_normal((3 * BATCH, 20)).astype(np.float32)
    y = rng.integers(0, 5, 3 * BATCH).astype(np.int64)
    result, plan, stats = run_auto(workdir, x, y, 3, "--calibration-steps", 3)
    assert "precision: calibrated on 3 steps in fp32" in result.stdout
    assert stats["steps"] == 3
    statistics = {t["name"]: t for t in stats["tensors"]}
    assert [t["name"] for t in plan["tensors"]] == [t["name"] for t in stats["tensors"]]
    chosen = set()
    for tensor in plan["tensors"]:
        s = statistics[tensor["name"]]
        fmt, exponent = tensor["format"], tensor["exponent"]
        chosen.add(fmt)
        assert fmt == "fp32" or fits(s, fmt, exponent), tensor
        bits = FORMATS[fmt][0]
        for narrower, (width, *_rest) in FORMATS.items():
            if width < bits:
                assert not any(fits(s, narrower, e) for e in range(-200, 200)), \
                    (tensor["name"], fmt, narrower)
        assert tensor["decided_by"]["calibration_steps"] == 3
    assert len(chosen) > 1 or chosen != {"fp32"}


def test_a_step_that_overflows_a_tensor_raises_its_exponent(workdir):
    """Calibrated on inputs of one scale, then fed inputs 2^12 times larger:
    the input's rounding saturates, the trainer says so and raises the
    exponent at once, step after step, until the range holds them."""
    rng = np.random.default_rng(31)
    x = rng.standard_normal((12 * BATCH, 20)).astype(np.float32)
    x[2 * BATCH:] *= 4096
    y = rng.integers(0, 5, 12 * BATCH).astype(np.int64)
    _, calibrated, _ = run_auto(workdir, x[:2 * BATCH], y[:2 * BATCH], 2,
                                "--calibration-steps", 2)
    result, plan, _ = run_auto(workdir, x, y, 12, "--calibration-steps", 2,
                               "--stats-every", 100)
    before = next(t for t in calibrated["tensors"] if t["name"] == "input")
    after = next(t for t in plan["tensors"] if t["name"] == "input")
    assert before["format"] != "fp32"
    raised = [l for l in result.stdout.splitlines()
              if l.startswith("precision: step ") and " input overflowed (" in l]
    assert len(raised) >= 4, result.stdout
    assert after["format"] == before["format"]
    assert after["exponent"] == before["exponent"] + len(raised)
    # The range holds them now: the last steps saturate nothing.
    assert not any(l.startswith(("precision: step 11:", "precision: step 12:")) for l in raised)
    assert np.isfinite(result.json["last_loss"])


def test_the_settings_of_auto_need_an_auto_program(workdir):
    model = models.torch_mlp(workdir / "model.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", BATCH, "--precision=bf16")
    x = np.zeros((BATCH, 20), np.float32)
    xp, yp = save_npy_dataset(workdir, x, np.zeros(BATCH, np.int64))
    result = train(exe, "--train-x", xp, "--train-y", yp, "--calibration-steps", 3)
    assert result.returncode != 0 and "for a program compiled with dlc --precision=auto" \
        in result.stderr, result
