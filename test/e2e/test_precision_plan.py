"""dlc --precision and --precision-plan: the first step's gradients of a
program that keeps its tensors in narrower formats against PyTorch autograd
on the same ONNX model, rounding the same tensors the same way (torch's own
casts to bfloat16 and float16, ml_dtypes' float8, numpy's rint for fixed
point); the plan the trainer writes back, compiled again; plans that are
wrong, refused."""
import json
import re

import ml_dtypes
import numpy as np
import onnx
import pytest
import torch

import models
from conftest import DLC, compile_model, run, save_npy_dataset, train
from dlc_tools.torch_reference import OnnxModule, reference_loss
from test_training_vs_pytorch import initializers, make_data

BATCH, LR = 8, 100.0
MINIFLOATS = {"fp8e4m3": ml_dtypes.float8_e4m3fn, "fp8e5m2": ml_dtypes.float8_e5m2}


def rounding(fmt, exponent):
    """How the format rounds, written without dlc."""
    if fmt in ("bf16", "fp16"):
        dtype = torch.bfloat16 if fmt == "bf16" else torch.float16
        return lambda t: (t * 2.0 ** -exponent).to(dtype).to(torch.float32) * 2.0 ** exponent
    if fmt in MINIFLOATS:
        dtype = MINIFLOATS[fmt]
        return lambda t: torch.from_numpy(
            np.ldexp(np.ldexp(t.detach().numpy(), -exponent).astype(dtype)
                     .astype(np.float32), exponent))
    bits = {"int8": 8, "int16": 16}[fmt]
    return lambda t: torch.clamp(torch.round(t * 2.0 ** -exponent),
                                 -2 ** (bits - 1), 2 ** (bits - 1) - 1) * 2.0 ** exponent


def reference_gradients(model, plan, x, y):
    """Autograd's gradients with the plan's tensors rounded where dlc rounds
    them: a weight where the forward reads it, an activation where its node
    writes it, "X:grad" where node X's backward writes the gradient of its
    input, "loss:grad" the loss's gradient, "P:grad" parameter P's."""
    values, gradients, parameters = {}, {}, {}
    loss_gradient = None
    for tensor in plan["tensors"]:
        name, kind = tensor["name"], tensor["kind"]
        if tensor["format"] == "fp32":
            continue
        fn = rounding(tensor["format"], tensor["exponent"])
        assert "#" not in name, "a repeated name this reference cannot place: " + name
        if kind in ("weight", "activation"):
            values[name] = fn
        elif kind == "weight_gradient":
            parameters[name[:-len(":grad")]] = fn
        elif name == "loss:grad":
            loss_gradient = fn
        else:
            gradients[name[:-len(":grad")]] = fn
    module = OnnxModule(onnx.load(str(model)), round_values=values, round_gradients=gradients)
    nodes = {n.name for n in module.graph.node}
    assert set(values) - set(module.names) - {"input"} <= nodes
    assert set(gradients) <= nodes and set(parameters) <= set(module.names)
    for name, fn in parameters.items():
        module.parameter(name).register_hook(fn)
    if loss_gradient is not None:
        forward = module.forward
        module.forward = lambda x, logits=False: _with_gradient_rounded(
            forward(x, logits), loss_gradient)
    loss = reference_loss("cross-entropy", module, torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    return {name: module.parameter(name).grad.double().numpy() for name in module.names}


def _with_gradient_rounded(value, fn):
    value = value.clone()
    value.register_hook(fn)
    return value


def dlc_first_step(workdir, model, x, y, *flags):
    """dlc's first-step gradients, (w0 - w1) / lr, and the plan its trainer
    writes back."""
    exe = compile_model(model, workdir / "trainer", "--batch", BATCH, "--lr", LR,
                        "--momentum", 0, *flags)
    xp, yp = save_npy_dataset(workdir, x, y)
    saved, plan = workdir / "trained.onnx", workdir / "plan-out.json"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle", "--steps", 1,
                   "--log-every", 0, "--save", saved, "--precision-plan-out", plan)
    assert result.returncode == 0, result
    trained, initial = initializers(saved), initializers(model)
    grads = {n: (initial[n].astype(np.float64) - trained[n]) / LR for n in initial}
    return grads, json.loads(plan.read_text())


def check_gradients(ours, rounded, exact):
    """dlc's gradients are the rounded reference's, far closer to it than
    the rounding moves them from the fp32 reference's."""
    moved = sum(np.linalg.norm(rounded[n] - exact[n]) for n in exact)
    assert moved > 0, "the plan rounds nothing the gradients show"
    for name in exact:
        error = np.linalg.norm(ours[name] - rounded[name])
        shift = np.linalg.norm(rounded[name] - exact[name])
        scale = np.linalg.norm(rounded[name])
        assert error <= 0.1 * shift + 1e-6 * scale, (name, error, shift, scale)


MODELS = [("mlp", models.torch_mlp, (20,), 5), ("lenet", models.torch_lenet, (1, 28, 28), 10)]


@pytest.mark.parametrize("fmt", ["bf16", "fp16"])
@pytest.mark.parametrize("name,builder,shape,classes", MODELS, ids=[m[0] for m in MODELS])
def test_first_step_gradients_of_a_forced_format_match_a_rounding_reference(
        workdir, fmt, name, builder, shape, classes):
    model = builder(workdir / "model.onnx")
    x, y = make_data(shape, classes, BATCH, seed=21)
    ours, plan = dlc_first_step(workdir, model, x, y, "--precision=" + fmt)
    kinds = {t["kind"] for t in plan["tensors"]}
    assert kinds == {"weight", "activation", "activation_gradient", "weight_gradient"}
    assert {t["format"] for t in plan["tensors"]} == {fmt}
    exact = reference_gradients(model, {"tensors": []}, x, y)
    check_gradients(ours, reference_gradients(model, plan, x, y), exact)


@pytest.mark.parametrize("isa", ["", "AVX2"], ids=["cpu-default", "no-bf16-isa"])
def test_bf16_convolutions_give_the_rounding_references_gradients_on_any_isa(
        workdir, monkeypatch, isa):
    """LeNet in bf16 takes oneDNN's bf16 convolutions where the CPU has them
    and, with oneDNN held to AVX2, fp32 kernels on rounded
    copies: both are the rounding reference's arithmetic."""
    if isa:
        monkeypatch.setenv("DNNL_MAX_CPU_ISA", isa)
    model = models.torch_lenet(workdir / "model.onnx")
    x, y = make_data((1, 28, 28), 10, BATCH, seed=22)
    exec_ir = workdir / "step.mlir"
    compile_model(model, exec_ir, "--batch", BATCH, "--precision=bf16", "--emit=exec")
    # A geometry's 22nd field, bf16Operands.
    assert re.search(r'"Conv2DGeometry", \[(-?\d+, ){21}1\]', exec_ir.read_text()), \
        "no convolution takes bf16 kernels"
    ours, plan = dlc_first_step(workdir, model, x, y, "--precision=bf16")
    exact = reference_gradients(model, {"tensors": []}, x, y)
    check_gradients(ours, reference_gradients(model, plan, x, y), exact)


def test_an_edited_plan_compiles_trains_and_comes_back_as_written(workdir):
    """The plan a bf16 trainer writes, edited to mix every format (fixed
    point with exponents, float8 with a scale, fp32 left alone): dlc compiles
    it, the gradients are the reference's with the same roundings, and the
    trainer writes the same plan back."""
    model = models.torch_mlp(workdir / "model.onnx")
    x, y = make_data((20,), 5, BATCH, seed=22)
    _, plan = dlc_first_step(workdir, model, x, y, "--precision=bf16")
    edits = {"fc1.weight": ("int8", -9), "fc2.weight": ("fp8e4m3", -4), "input": ("int16", -12),
             "/Relu": ("fp8e5m2", 0), "loss:grad": ("fp16", 0), "/Relu:grad": ("fp32", 0),
             "fc2.weight:grad": ("int16", -20), "fc3.bias": ("fp32", 0)}
    names = {t["name"] for t in plan["tensors"]}
    assert set(edits) <= names
    for tensor in plan["tensors"]:
        tensor["format"], tensor["exponent"] = edits.get(tensor["name"], ("bf16", 0))
        del tensor["decided_by"]
    edited = workdir / "edited.json"
    edited.write_text(json.dumps(plan))

    ours, back = dlc_first_step(workdir, model, x, y, "--precision-plan", edited)
    assert [(t["name"], t["format"], t["exponent"]) for t in back["tensors"]] == \
        [(t["name"], t["format"], t["exponent"]) for t in plan["tensors"]]
    exact = reference_gradients(model, {"tensors": []}, x, y)
    check_gradients(ours, reference_gradients(model, plan, x, y), exact)


def test_a_plan_with_a_default_needs_only_the_exceptions(workdir):
    model = models.torch_mlp(workdir / "model.onnx")
    x, y = make_data((20,), 5, BATCH, seed=23)
    plan = workdir / "plan.json"
    plan.write_text(json.dumps({"default": "bf16", "tensors": [
        {"name": "fc1.weight:grad", "format": "fp32"}]}))
    ours, back = dlc_first_step(workdir, model, x, y, "--precision-plan", plan)
    formats = {t["name"]: t["format"] for t in back["tensors"]}
    assert formats.pop("fc1.weight:grad") == "fp32"
    assert set(formats.values()) == {"bf16"}
    exact = reference_gradients(model, {"tensors": []}, x, y)
    check_gradients(ours, reference_gradients(model, back, x, y), exact)


@pytest.mark.parametrize("content,message", [
    ("{", "is not JSON"),
    ('{"tensors": {}}', 'has no "tensors" array'),
    ('{"default": "bf16", "tensors": [{"name": "fc9.weight", "format": "bf16"}]}',
     "names 'fc9.weight', which this model's training step does not have"),
    ('{"tensors": [{"name": "fc1.weight", "format": "bf16"}]}',
     "leaves out 'fc"),
    ('{"default": "bf12", "tensors": []}', "\"default\" has the unknown format 'bf12'"),
    ('{"default": "bf16", "tensors": [{"name": "input", "format": "int8", "exponent": 1.5}]}',
     "'input' has an exponent that is not an integer"),
    ('{"default": "bf16", "tensors": [{"name": "input", "format": "bf16", "exponent": -135}]}',
     "'input' has an exponent that is not an integer in [-126, 0], the exponents bf16 may"),
    ('{"default": "bf16", "tensors": [{"name": "input", "format": "int8"},'
     ' {"name": "input", "format": "int16"}]}', "names 'input' twice"),
])
def test_a_wrong_plan_is_refused_naming_the_file_and_the_tensor(workdir, content, message):
    model = models.torch_mlp(workdir / "model.onnx")
    plan = workdir / "plan.json"
    plan.write_text(content)
    out = workdir / "trainer"
    result = run([DLC, model, "-o", out, "--precision-plan", plan])
    assert result.returncode != 0
    assert message in result.stderr and str(plan) in result.stderr, result
    assert not out.exists()


@pytest.mark.parametrize("flags,message", [
    (["--precision=fp8e4m3"], "--precision=fp8e4m3: expected fp32, bf16, fp16 or auto"),
    (["--precision=bf16", "--precision-plan", "p.json"], "pass one"),
    (["--precision=bf16", "--target=cuda"], "are for --target=cpu"),
    (["--precision=bf16", "--memory-budget=1G", "--overlap=backward"],
     "cannot be combined with --memory-budget"),
    (["--precision-plan", "/nonexistent/plan.json"],
     "cannot read the precision plan /nonexistent/plan.json"),
])
def test_precision_flags_are_checked(workdir, flags, message):
    model = models.torch_mlp(workdir / "model.onnx")
    result = run([DLC, model, "-o", workdir / "trainer", *flags])
    assert result.returncode != 0 and message in result.stderr, result
    assert not (workdir / "trainer").exists()


def test_the_plan_out_flag_needs_a_program_with_formats(workdir):
    model = models.torch_mlp(workdir / "model.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", BATCH)
    x, y = make_data((20,), 5, BATCH, seed=24)
    xp, yp = save_npy_dataset(workdir, x, y)
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1,
                   "--precision-plan-out", workdir / "plan.json")
    assert result.returncode != 0 and "compiled without number formats" in result.stderr
    assert not (workdir / "plan.json").exists()


def live_at_loss(workdir, model, *flags):
    """The memory report's activation bytes live when the loss is computed
    (the activations the backward pass keeps, and the input)."""
    report = workdir / "memory.json"
    compile_model(model, workdir / "trainer", "--batch", 64, "--report-memory", report, *flags)
    timeline = json.loads(report.read_text())["timeline"]
    return next(p["activations"] for p in timeline if p["op"] == "softmaxCrossEntropy")


@pytest.mark.parametrize("fmt,saved_per_value", [("bf16", 2), ("fp8e4m3", 3), ("int8", 3)])
def test_activations_kept_for_the_backward_pass_take_their_formats_bytes(
        workdir, fmt, saved_per_value):
    """The activations a plan keeps in 16 or 8 bits are 2 or 1 bytes a value
    in the arena while the backward pass waits for them (the data input,
    the trainer's, stays fp32)."""
    model = models.torch_fashion_cnn(workdir / "model.onnx")
    plan = workdir / "plan.json"
    plan.write_text(json.dumps({"default": fmt, "tensors": []}))
    narrow = live_at_loss(workdir, model, "--precision-plan", plan)
    x, y = make_data((1, 28, 28), 10, BATCH, seed=25)
    _, written = dlc_first_step(workdir, model, x, y, "--precision-plan", plan)
    kept = sum(t["elements"] for t in written["tensors"]
               if t["kind"] == "activation" and t["name"] != "input")
    wide = live_at_loss(workdir, model)
    # The same tensors at batch 64 (the plan's elements are at batch 8).
    assert wide - narrow >= 0.99 * saved_per_value * kept * 64 // BATCH, (wide, narrow, kept)


WIRE_PLANS = {
    # Every tensor bf16: averages go as bf16, half fp32's bytes.
    "bf16": (None, 2),
    # Weight gradients in 8 bits (one of them int8 at an exponent): a byte a
    # value.
    "8-bit": ({"default": "bf16", "tensors": [
        {"name": "fc1.weight:grad", "format": "int8", "exponent": -8},
        *({"name": n + ":grad", "format": "fp8e5m2"}
          for n in ("fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"))]}, 4),
}


@pytest.mark.parametrize("wire", WIRE_PLANS)
def test_gradient_averages_cross_the_network_in_the_gradients_format(workdir, wire):
    """Under mpirun a gradient average goes in its gradient's format: a
    quarter or half fp32's bytes in the trace, and exactly the reference's
    mean: each rank's gradients rounded as PyTorch rounds them, summed in
    fp32, the mean rounded once to the format."""
    plan_in, shrink = WIRE_PLANS[wire]
    model = models.torch_mlp(workdir / "model.onnx")
    x, y = make_data((20,), 5, 2 * BATCH, seed=23)
    if plan_in:
        (workdir / "plan-in.json").write_text(json.dumps(plan_in))
    sizes = {}
    for fmt in ("fp32", wire):
        flags = (("--precision=" + fmt,) if plan_in is None or fmt == "fp32"
                 else ("--precision-plan", workdir / "plan-in.json"))
        exe = compile_model(model, workdir / ("trainer-" + fmt), "--batch", BATCH, "--lr", LR,
                            "--momentum", 0, *flags)
        xp, yp = save_npy_dataset(workdir, x, y)
        saved, plan, trace = (workdir / "trained.onnx", workdir / "plan-out.json",
                              workdir / "trace.json")
        plan_out = ("--precision-plan-out", plan) if fmt != "fp32" else ()
        # Each gradient averaged alone, so that each goes in its own format.
        result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle", "--steps", 1,
                       "--log-every", 0, "--save", saved, "--trace", trace, *plan_out,
                       ranks=2, env={"DLC_COMM_BUCKET_BYTES": "0"})
        assert result.returncode == 0, result
        events = json.loads((workdir / "trace.rank0.json").read_text())["traceEvents"]
        sizes[fmt] = sum(e["args"]["bytes"] for e in events if e.get("name") == "allreduce")
    assert sizes[wire] * shrink == sizes["fp32"] > 0, sizes
    trained, initial = initializers(saved), initializers(model)
    ours = {n: (initial[n].astype(np.float64) - trained[n]) / LR for n in initial}
    plan = json.loads(plan.read_text())
    # Rank r trains on samples r * BATCH to (r + 1) * BATCH.
    halves = [(x[r * BATCH:(r + 1) * BATCH], y[r * BATCH:(r + 1) * BATCH]) for r in (0, 1)]
    rounded = [reference_gradients(model, plan, *half) for half in halves]
    exact = [reference_gradients(model, {"tensors": []}, *half) for half in halves]
    formats = {t["name"][:-len(":grad")]: rounding(t["format"], t["exponent"])
               for t in plan["tensors"] if t["kind"] == "weight_gradient"}
    mean = {n: formats[n](torch.from_numpy(
        (rounded[0][n].astype(np.float32) + rounded[1][n].astype(np.float32)) / 2))
        .double().numpy() for n in initial}
    check_gradients(ours, mean, {n: (exact[0][n] + exact[1][n]) / 2 for n in initial})
