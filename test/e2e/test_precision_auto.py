"""dlc --precision=auto: the trainer calibrates in fp32, then gives each
tensor the narrowest format its statistics fit (checked here against the
formats' ranges, by brute force over exponents, from the statistics the
trainer wrote), and raises a tensor's exponent when a step overflows it;
the step that overflowed is redone from the variables it found (its
weights then are PyTorch's, rounding as the final formats round), skipped,
or kept, as --on-overflow says."""
import json
import re

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import models
from conftest import compile_model, save_npy_dataset, train
from test_precision_plan import check_gradients, reference_gradients
from test_training_vs_pytorch import initializers

BATCH = 32
# Each format's bits and the leading-bit positions it holds unscaled
# (smallest subnormal to largest finite value), and its largest value.
FORMATS = {"int8": (8, 0, 6, 127.0), "fp8e4m3": (8, -9, 8, 448.0),
           "fp8e5m2": (8, -16, 15, 57344.0), "int16": (16, 0, 14, 32767.0),
           "fp16": (16, -24, 15, 65504.0), "bf16": (16, -133, 127, 3.3895313892515355e38),
           "fp32": (32, -149, 127, 3.4028234663852886e38)}
OVERFLOW, UNDERFLOW = 1e-4, 1e-3
# --scale-margin's default: positions of headroom above the values' top.
MARGIN = 1


def shares(tensor, fmt, exponent, margin):
    """The shares of a tensor's nonzero values above the format's range at
    that exponent, less `margin` positions of headroom (a top position the
    largest value does not reach counts as above), and below it."""
    _, lowest, highest, largest = FORMATS[fmt]
    histogram = {int(p): c for p, c in tensor["histogram"].items()}
    placed = sum(histogram.values())
    top = highest + exponent - margin
    above = sum(c for p, c in histogram.items() if p > top)
    if histogram.get(top) and max(histogram) == top and \
            tensor["abs_max"] > np.ldexp(largest, exponent - margin):
        above += histogram[top]
    below = sum(c for p, c in histogram.items() if p < lowest + exponent)
    return above / placed, below / placed


def fits(tensor, fmt, exponent, margin=MARGIN):
    above, below = shares(tensor, fmt, exponent, margin)
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
        if fmt.startswith("int") or (fmt != "fp32" and exponent != 0):
            # The smallest exponent with the headroom: one less lacks it.
            assert shares(s, fmt, exponent - 1, MARGIN)[0] > OVERFLOW, tensor
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


def overflowing_second_step(workdir, action):
    """The MLP without momentum, calibrated on step 1, then fed a batch 2^6
    times larger than the one it calibrated on: step 2 overflows."""
    rng = np.random.default_rng(32)
    x = rng.standard_normal((2 * BATCH, 20)).astype(np.float32)
    x[BATCH:] *= 64
    y = rng.integers(0, 5, 2 * BATCH).astype(np.int64)
    model = models.torch_mlp(workdir / "model.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", BATCH, "--lr", REDO_LR,
                        "--momentum", 0, "--precision=auto")
    xp, yp = save_npy_dataset(workdir, x, y)
    saved, plan = workdir / "trained.onnx", workdir / "plan.json"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle", "--steps", 2,
                   "--log-every", 0, "--calibration-steps", 1, "--stats-every", 100,
                   "--on-overflow", action, "--save", saved, "--precision-plan-out", plan)
    assert result.returncode == 0, result
    assert "precision: step 2: " in result.stdout and " overflowed (" in result.stdout, \
        result.stdout
    # Step 1, in fp32, by PyTorch: the weights step 2 starts from.
    initial = initializers(model)
    first = reference_gradients(model, {"tensors": []}, x[:BATCH], y[:BATCH])
    after_first = {n: (initial[n] - REDO_LR * first[n]).astype(np.float32) for n in initial}
    start = onnx.load(str(model))
    for tensor in start.graph.initializer:
        if tensor.name in after_first:
            tensor.CopyFrom(numpy_helper.from_array(after_first[tensor.name], tensor.name))
    start_path = workdir / "after-step-1.onnx"
    onnx.save(start, str(start_path))
    return (result, initializers(saved), json.loads(plan.read_text()), after_first,
            start_path, x[BATCH:], y[BATCH:])


REDO_LR = 0.5


def test_an_overflowed_step_is_redone_from_the_weights_it_found(workdir):
    """Redone until nothing saturates: the weights are step 1's in fp32 and
    then one step 2 in the formats it ended with, as PyTorch computes them
    rounding the same tensors the same way; no attempt before leaves a
    trace."""
    result, trained, plan, start, start_path, x2, y2 = overflowing_second_step(workdir, "redo")
    redone = [l for l in result.stdout.splitlines() if l.startswith("precision: step 2 redone")]
    assert len(redone) >= 2 and result.json["overflow_redos"] == len(redone), result.stdout
    assert result.json["steps"] == 2
    ours = {n: (start[n].astype(np.float64) - trained[n]) / REDO_LR for n in start}
    exact = reference_gradients(start_path, {"tensors": []}, x2, y2)
    check_gradients(ours, reference_gradients(start_path, plan, x2, y2), exact)


def test_an_overflowed_step_is_skipped_or_kept_as_asked(workdir):
    result, trained, _, start, *_ = overflowing_second_step(workdir, "skip")
    assert "precision: step 2 skipped: its updates undone" in result.stdout, result.stdout
    assert result.json["overflow_skips"] == 1 and result.json["overflow_redos"] == 0
    for name in start:
        np.testing.assert_allclose(trained[name], start[name], rtol=1e-5, atol=1e-6)
    result, trained, plan, start, start_path, x2, y2 = overflowing_second_step(workdir, "keep")
    assert "redone" not in result.stdout and "skipped" not in result.stdout
    assert result.json["overflow_skips"] == 0 and result.json["overflow_redos"] == 0
    # Its update came from formats that saturated: not the weights moved.
    assert any(np.abs(trained[n] - start[n]).max() > 1e-4 for n in start)


def test_every_rank_redoes_the_same_steps_under_mpirun(workdir):
    """Overflow counts are summed over the ranks, so both undo the step
    together; a pipelined program (--overlap=next-forward, mpirun's default)
    first finishes its carried updates."""
    rng = np.random.default_rng(33)
    x = rng.standard_normal((8 * 16, 20)).astype(np.float32)
    x[4 * 16:] *= 64
    y = rng.integers(0, 5, 8 * 16).astype(np.int64)
    model = models.torch_mlp(workdir / "model.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", 16, "--precision=auto",
                        "--overlap=next-forward")
    xp, yp = save_npy_dataset(workdir, x, y)
    result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle", "--steps", 4,
                   "--log-every", 0, "--calibration-steps", 2, ranks=2)
    assert result.returncode == 0, result
    assert "precision: step 3 redone (attempt 2)" in result.stdout, result.stdout
    assert result.json["steps"] == 4 and result.json["overflow_redos"] >= 1
    assert np.isfinite(result.json["last_loss"])


def test_the_formats_picture_draws_each_tensors_range_over_its_histogram(workdir):
    from dlc_tools import plot_precision
    rng = np.random.default_rng(34)
    x = rng.standard_normal((3 * BATCH, 20)).astype(np.float32)
    y = rng.integers(0, 5, 3 * BATCH).astype(np.int64)
    _, plan, stats = run_auto(workdir, x, y, 3, "--calibration-steps", 3)
    svg = workdir / "formats.svg"
    assert plot_precision.main([str(workdir / "plan.json"), str(workdir / "stats.json"),
                                "-o", str(svg)]) == 0
    text = svg.read_text()
    ranges = re.findall(r'<rect class="range"[^>]*><title>(\w+) at 2\^(-?\d+)</title>', text)
    narrow = [(t["format"], str(t["exponent"])) for t in plan["tensors"]]
    assert ranges == narrow, (ranges, narrow)
    for tensor in plan["tensors"]:
        assert ">%s (%s)<" % (tensor["name"], tensor["kind"].replace("_", " ")) in text
    # A plan naming a tensor the statistics lack is refused, nothing written.
    plan["tensors"][0]["name"] = "no such tensor"
    (workdir / "bad.json").write_text(json.dumps(plan))
    assert plot_precision.main([str(workdir / "bad.json"), str(workdir / "stats.json"),
                                "-o", str(workdir / "bad.svg")]) == 1
    assert not (workdir / "bad.svg").exists()
