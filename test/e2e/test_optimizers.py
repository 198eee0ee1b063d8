"""Run-time hyperparameters, Adam and AdamW, and learning-rate schedules,
against torch.optim and torch.optim.lr_scheduler on the same model, data and
hyperparameters: 20 steps, every parameter within 1e-5 relative."""
import numpy as np
import onnx
import pytest
import torch

import models
from conftest import compile_model, save_npy_dataset, train
from dlc_tools.torch_reference import OnnxModule, reference_loss
from test_bad_input import assert_clean_failure
from test_training_vs_pytorch import initializers, make_data, relative_error

STEPS, BATCH = 20, 8


def torch_run(model, x, y, make_optimizer, make_schedulers=lambda opt: []):
    module = OnnxModule(onnx.load(str(model)))
    optimizer = make_optimizer(module.parameters())
    schedulers = make_schedulers(optimizer)
    losses = []
    for step in range(STEPS):
        xb = torch.from_numpy(x[step * BATCH:(step + 1) * BATCH])
        yb = torch.from_numpy(y[step * BATCH:(step + 1) * BATCH])
        optimizer.zero_grad()
        loss = reference_loss("cross-entropy", module, xb, yb)
        loss.backward()
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
        losses.append(loss.item())
    return module, losses


def dlc_run(workdir, exe, x, y, *flags):
    xp, yp = save_npy_dataset(workdir, x, y)
    saved = workdir / "trained.onnx"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle", "--steps", STEPS,
                   "--log-every", 0, "--save", saved, *flags)
    assert result.returncode == 0, result
    return result.json, initializers(saved)


def assert_matches(summary, trained, module, losses, tolerance=1e-5):
    assert summary["last_loss"] == pytest.approx(losses[-1], rel=tolerance)
    for name, w in trained.items():
        assert relative_error(w, module.state(name).numpy()) < tolerance, name


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("opt")
    model = models.torch_mlp(workdir / "mlp.onnx", sizes=(20, 16, 12, 5))
    x, y = make_data((20,), 5, STEPS * BATCH, seed=21)
    return workdir, model, x, y


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_adam_matches_torch_optim(mlp, tmp_path, optimizer):
    _, model, x, y = mlp
    exe = compile_model(model, tmp_path / "t", "--batch", BATCH, "--optimizer", optimizer,
                        "--lr", 0.01, "--beta1", 0.8, "--beta2", 0.99, "--eps", 1e-6,
                        "--weight-decay", 0.05)
    summary, trained = dlc_run(tmp_path, exe, x, y)
    torch_class = torch.optim.Adam if optimizer == "adam" else torch.optim.AdamW
    module, losses = torch_run(model, x, y, lambda p: torch_class(
        p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05))
    assert_matches(summary, trained, module, losses)


def test_trainer_flags_override_the_compiled_defaults(mlp, tmp_path):
    """Compiled with one set of Adam hyperparameters, run with another: the
    run follows the flags, without recompiling."""
    _, model, x, y = mlp
    exe = compile_model(model, tmp_path / "t", "--batch", BATCH, "--optimizer", "adam")
    summary, trained = dlc_run(tmp_path, exe, x, y, "--lr", 0.003, "--beta1", 0.7,
                               "--beta2", 0.95, "--eps", 1e-7, "--weight-decay", 0.01)
    module, losses = torch_run(model, x, y, lambda p: torch.optim.Adam(
        p, lr=0.003, betas=(0.7, 0.95), eps=1e-7, weight_decay=0.01))
    assert_matches(summary, trained, module, losses)


@pytest.fixture(scope="module")
def sgd_trainer(mlp):
    workdir, model, _, _ = mlp
    return compile_model(model, workdir / "sgd", "--batch", BATCH, "--lr", 0.5,
                         "--momentum", 0.9)


@pytest.mark.parametrize("name,flags,schedulers", [
    ("constant+warmup", ["--warmup-steps", 5],
     lambda o: [torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / 3, total_iters=5)]),
    ("step", ["--lr-schedule", "step", "--lr-step-size", 6, "--lr-gamma", 0.5],
     lambda o: [torch.optim.lr_scheduler.StepLR(o, step_size=6, gamma=0.5)]),
    ("cosine", ["--lr-schedule", "cosine", "--lr-min", 0.01],
     lambda o: [torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.01)]),
    ("step+warmup", ["--lr-schedule", "step", "--lr-step-size", 7, "--warmup-steps", 4,
                     "--warmup-start-factor", 0.25],
     lambda o: [torch.optim.lr_scheduler.ChainedScheduler([
         torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4),
         torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.1)])]),
])
def test_schedules_match_torch_schedulers(mlp, sgd_trainer, tmp_path, name, flags, schedulers):
    """SGD with momentum and weight decay given at run time (the program was
    compiled with lr 0.5 and weight decay 0), under each schedule."""
    _, model, x, y = mlp
    summary, trained = dlc_run(tmp_path, sgd_trainer, x, y, "--lr", 0.1, "--momentum", 0.8,
                               "--weight-decay", 0.001, *flags)
    module, losses = torch_run(model, x, y, lambda p: torch.optim.SGD(
        p, lr=0.1, momentum=0.8, weight_decay=0.001), schedulers)
    assert_matches(summary, trained, module, losses)


def test_flags_the_program_cannot_honour_are_refused(mlp, tmp_path):
    workdir, model, x, y = mlp
    xp, yp = save_npy_dataset(tmp_path, x, y)
    data = ["--train-x", xp, "--train-y", yp]
    plain = compile_model(model, tmp_path / "plain", "--batch", BATCH)
    assert_clean_failure(train(plain, *data, "--momentum", 0.9),
                         "compiled without momentum", "recompile with dlc --momentum")
    assert_clean_failure(train(plain, *data, "--beta1", 0.5), "--beta1 does not apply",
                         "--optimizer=sgd")
    assert_clean_failure(train(plain, *data, "--lr", "nan"), "invalid value 'nan' for --lr")
    assert_clean_failure(train(plain, *data, "--lr-schedule", "step"), "needs --lr-step-size")
    assert_clean_failure(train(plain, *data, "--lr-schedule", "linear"),
                         "expected constant, step or cosine")


def test_adam_resume_is_bit_identical(mlp, tmp_path):
    """Adam's moments and step count, and the schedule's position, are in the
    checkpoint."""
    _, model, x, y = mlp
    exe = compile_model(model, tmp_path / "t", "--batch", BATCH, "--optimizer", "adamw",
                        "--weight-decay", 0.1)
    xp, yp = save_npy_dataset(tmp_path, x, y)
    data = ["--train-x", xp, "--train-y", yp, "--lr-schedule", "cosine", "--cosine-steps", 40,
            "--warmup-steps", 3,
            "--log-every", 0, "--epochs", 2]
    whole = train(exe, *data, "--save", tmp_path / "whole.onnx")
    first = train(exe, *data, "--steps", 13, "--checkpoint-dir", tmp_path / "c",
                  "--checkpoint-every", 13)
    second = train(exe, *data, "--resume", tmp_path / "c", "--save", tmp_path / "resumed.onnx")
    for result in (whole, first, second):
        assert result.returncode == 0, result
    a, b = initializers(tmp_path / "whole.onnx"), initializers(tmp_path / "resumed.onnx")
    for name in a:
        assert a[name].tobytes() == b[name].tobytes(), name
