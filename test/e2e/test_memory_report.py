"""`dlc --report-memory FILE.json`: the plan's figures against references
computed here, independently of dlc -- the ONNX file's initializer sizes,
the trainer's own arena -- and the planner's quality: the arena is within
5% of the lower bound of any placement on every test model."""
import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import models
from conftest import DLC, FASHION_MNIST, ROOT, compile_model, run
from dlc_tools import plot_memory
from dlc_tools.export_cnn import export_fashion_cnn

KEYS = {"naive_bytes", "arena_bytes", "lower_bound_bytes", "parameter_bytes",
        "optimizer_state_bytes", "recomputed_flops", "timeline"}


def aligned(nbytes):
    return (nbytes + 63) // 64 * 64


def report_of(model, tmp_path, *flags):
    path = tmp_path / "report.json"
    result = run([DLC, model, "--emit=exec", "-o", tmp_path / "out.mlir",
                  "--report-memory", path, *flags])
    assert result.returncode == 0, result
    return json.loads(path.read_text())


def test_figures_match_the_model_and_the_trainer(workdir):
    model = ROOT / "models" / "mlp.onnx"
    path = workdir / "report.json"
    exe = compile_model(model, workdir / "trainer", "--batch", 64, "--momentum", 0.9,
                        "--overlap=backward", "--report-memory", path)
    report = json.loads(path.read_text())
    assert set(report) == KEYS
    weights = [numpy_helper.to_array(t) for t in onnx.load(str(model)).graph.initializer]
    assert report["parameter_bytes"] == sum(aligned(w.nbytes) for w in weights)
    # SGD with momentum keeps one velocity per parameter.
    assert report["optimizer_state_bytes"] == report["parameter_bytes"]
    assert report["recomputed_flops"] == 0
    trained = run([exe, "--data", FASHION_MNIST, "--steps", 1, "--log-every", 0])
    assert trained.returncode == 0, trained
    assert report["arena_bytes"] == trained.json["arena_bytes"]
    assert report["lower_bound_bytes"] <= report["arena_bytes"] <= report["naive_bytes"]
    # The timeline's highest point is the step's peak, the lower bound
    # less the globals (the training step needs more than @forward).
    globals_ = report["parameter_bytes"] + report["optimizer_state_bytes"]
    totals = [p["activations"] + p["gradients"] + p["scratch"] for p in report["timeline"]]
    assert max(totals) + globals_ == report["lower_bound_bytes"]
    # The first operation (the first layer's product) has no gradient live;
    # by the last (an update) the activations are gone.
    assert report["timeline"][0]["gradients"] == 0
    assert report["timeline"][0]["activations"] > 0
    assert report["timeline"][-1]["activations"] == 0
    assert report["timeline"][-1]["gradients"] > 0


def test_pipelined_gradients_wrap_around_the_step(workdir):
    """--overlap=next-forward: each gradient's average is in
    flight from the end of one step into the next, until that layer's
    update before its forward. The timeline shows gradients live at the
    step's start, none between the last carried update and the loss (the
    peak of activations), and all of them again at the end."""
    model = ROOT / "models" / "mlp.onnx"
    report = report_of(model, workdir, "--batch", 64, "--momentum", 0.9,
                       "--overlap=next-forward")
    points = report["timeline"]
    assert points[0]["gradients"] > 0
    carried = [i for i, p in enumerate(points) if p["op"] == "carried"]
    produced = next(i for i, p in enumerate(points) if p["op"] == "softmaxCrossEntropy")
    # One exec.carried per gradient: the trainer buckets them by the link
    # it measures (with --comm-alpha, the compiler: see below).
    assert len(carried) == 6 and max(carried) < produced
    assert all(p["gradients"] == 0 for p in points[max(carried) + 1:produced])
    weights = [numpy_helper.to_array(t) for t in onnx.load(str(model)).graph.initializer]
    assert points[-1]["gradients"] >= sum(aligned(w.nbytes) for w in weights)
    # Bucketed at compile time: fc1's weight gradient, and a bucket of the rest.
    bucketed = report_of(model, workdir, "--batch", 64, "--momentum", 0.9,
                         "--overlap=next-forward", "--comm-alpha=50")
    assert sum(p["op"] == "carried" for p in bucketed["timeline"]) == 2


@pytest.mark.parametrize("name", ["mlp", "fashion-cnn", "lenet", "bn-cnn", "conv-zoo"])
def test_arena_is_within_five_percent_of_the_lower_bound(workdir, name):
    model = {
        "mlp": lambda p: ROOT / "models" / "mlp.onnx",
        "fashion-cnn": export_fashion_cnn,
        "lenet": models.torch_lenet,
        "bn-cnn": models.torch_bn_cnn,
        "conv-zoo": models.conv_zoo_model,
    }[name](workdir / "model.onnx")
    report = report_of(model, workdir, "--batch", 32, "--momentum", 0.9)
    assert report["lower_bound_bytes"] <= report["arena_bytes"]
    assert report["arena_bytes"] <= 1.05 * report["lower_bound_bytes"], report["arena_bytes"]


def test_report_with_an_early_stage_and_the_picture(workdir):
    """--emit=mlir stops before planning: the report plans a copy, and the
    output is still the imported graph. The picture is well-formed SVG with
    one area per kind."""
    path = workdir / "report.json"
    result = run([DLC, ROOT / "models" / "mlp.onnx", "--emit=mlir", "--report-memory", path])
    assert result.returncode == 0, result
    assert "graph.gemm" in result.stdout and "exec." not in result.stdout
    svg = workdir / "memory.svg"
    assert plot_memory.main([str(path), "-o", str(svg)]) == 0
    root = ElementTree.parse(svg).getroot()
    polygons = root.findall("{http://www.w3.org/2000/svg}polygon")
    assert len(polygons) == len(plot_memory.KINDS)


def test_bad_report_path_fails_cleanly(workdir):
    result = run([DLC, ROOT / "models" / "mlp.onnx", "--emit=exec", "-o", workdir / "x.mlir",
                  "--report-memory", workdir / "missing" / "report.json"])
    assert result.returncode != 0
    assert "report.json" in result.stderr, result
    assert not (workdir / "x.mlir").exists()
    lowered = run([DLC, ROOT / "models" / "mlp.onnx", "--emit=lowered", "-o", workdir / "l.mlir"])
    assert lowered.returncode == 0, lowered
    again = run([DLC, workdir / "l.mlir", "--report-memory", workdir / "r.json"])
    assert again.returncode != 0 and "not yet lowered" in again.stderr, again
    assert not (workdir / "r.json").exists()
