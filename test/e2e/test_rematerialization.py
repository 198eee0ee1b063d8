"""--memory-budget: values are recomputed and convolutions run in calls of
fewer images so that the arena fits, and training follows the plain plan's
to 1e-5 over 20 steps (a recomputed value is the same kernel on the same
inputs; a weight gradient summed over calls adds in another order), with
the plan checked by --debug-poison-freed, which changes no bit; a budget
that cannot be met is refused with the smallest arena dlc reaches; a bad
value names the flag."""
import json
import re

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import DLC, compile_model, run, save_npy_dataset, train
from dlc_tools.export_torchvision import build, export

STEPS = 20
BUDGET = 118_000_000  # ResNet-18 at 64x64, batch 16, momentum: 126.2 MB without recomputation, 110.5 MB at best


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("remat")
    model = workdir / "resnet18.onnx"
    export(build("resnet18", classes=10), model, size=64, batch=16)
    rng = np.random.default_rng(4)
    data = save_npy_dataset(workdir, rng.standard_normal((48, 3, 64, 64)).astype(np.float32),
                            rng.integers(0, 10, 48))
    return workdir, model, data


def trained(workdir, model, data, label, *flags):
    report = workdir / (label + ".json")
    exe = compile_model(model, workdir / label, "--batch", 16, "--momentum", 0.9,
                        "--report-memory", report, *flags)
    saved = workdir / (label + ".onnx")
    result = train(exe, "--train-x", data[0], "--train-y", data[1], "--no-shuffle",
                   "--steps", STEPS, "--log-every", 0, "--save", saved)
    assert result.returncode == 0, result
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(saved)).graph.initializer}
    return json.loads(report.read_text()), result.json, weights


def test_budget_is_met_and_training_unchanged(resnet):
    workdir, model, data = resnet
    plain_report, plain, plain_weights = trained(workdir, model, data, "plain")
    assert plain_report["arena_bytes"] > BUDGET
    runs = {}
    for label, flags in [("budget", ()), ("budget-poisoned", ("--debug-poison-freed",))]:
        report, summary, weights = trained(workdir, model, data, label,
                                           "--memory-budget", BUDGET, *flags)
        assert report["arena_bytes"] <= BUDGET, report["arena_bytes"]
        assert summary["arena_bytes"] == report["arena_bytes"]
        assert report["recomputed_flops"] > 0
        for key in ("last_loss", "train_loss"):
            assert summary[key] == pytest.approx(plain[key], rel=1e-5), (label, key)
        for name, value in plain_weights.items():
            np.testing.assert_allclose(weights[name], value, rtol=1e-3, atol=1e-4,
                                       err_msg=label + " " + name)
        runs[label] = summary, weights
    # Poisoning freed memory changes nothing: the plan reads no freed byte.
    (summary, weights), (poisoned, poisoned_weights) = runs.values()
    assert summary["train_loss"] == poisoned["train_loss"]
    for name, value in weights.items():
        assert np.array_equal(poisoned_weights[name], value), name


def test_unreachable_budget_is_refused(resnet):
    workdir, model, _ = resnet
    out = workdir / "never"
    result = run([DLC, model, "-o", out, "--batch", 16, "--momentum", 0.9, "--memory-budget", "100M"])
    assert result.returncode != 0
    assert "--memory-budget=104857600: the smallest arena dlc reaches is" in result.stderr, result
    assert not out.exists()


def test_every_budget_above_the_smallest_is_met(resnet):
    """A looser budget never fails where a tighter one succeeds: the
    rematerializer aims below the peak when the placement needs more."""
    workdir, model, _ = resnet
    common = [DLC, model, "--emit=exec", "-o", workdir / "sweep.mlir", "--batch", 16,
              "--momentum", 0.9, "--report-memory", workdir / "sweep.json"]
    refusal = run(common + ["--memory-budget", 1])
    smallest = int(re.search(r"the smallest arena dlc reaches is (\d+)", refusal.stderr).group(1))
    assert run(common).returncode == 0
    plain = json.loads((workdir / "sweep.json").read_text())["arena_bytes"]
    for budget in np.linspace(smallest, plain, 13).astype(int):
        result = run(common + ["--memory-budget", budget])
        assert result.returncode == 0, (budget, result)
        assert json.loads((workdir / "sweep.json").read_text())["arena_bytes"] <= budget


@pytest.mark.parametrize("value", ["12X", "0", "-5M", "1.5G", ""])
def test_bad_budget_names_the_flag(resnet, value):
    workdir, model, _ = resnet
    result = run([DLC, model, "-o", workdir / "bad", "--memory-budget=" + value])
    if value == "":
        # An empty value is the default: no budget.
        assert result.returncode == 0, result
        return
    assert result.returncode != 0
    assert "--memory-budget=" + value + ": expected a positive number of bytes" in result.stderr
