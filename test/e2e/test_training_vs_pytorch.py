"""dlc's gradients and training steps against PyTorch autograd and
torch.optim.SGD, on the same ONNX model, weights and data."""
import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

import models
from conftest import compile_model, save_npy_dataset, train
from dlc_tools.torch_reference import OnnxModule, reference_loss

# (id, builder, kwargs, input shape per sample, classes)
MODELS = [
    ("mlp-opset11", models.torch_mlp, dict(opset=11), (20,), 5),
    ("mlp-opset13", models.torch_mlp, dict(opset=13), (20,), 5),
    ("mlp-opset17-fixed-batch", models.torch_mlp, dict(opset=17, symbolic_batch=False), (20,), 5),
    ("mlp-softmax", models.torch_mlp, dict(softmax=True), (20,), 5),
    ("matmul-add-reshape-dropout", models.matmul_add_model, {}, (12,), 4),
    ("gemm-trans-a", models.trans_a_model, {}, (6,), 3),
    ("elementwise-ops", models.elementwise_model, {}, (6,), 4),
    ("lenet", models.torch_lenet, {}, (1, 28, 28), 10),
    ("conv-pool-variants", models.conv_zoo_model, {}, (4, 12, 12), 3),
    ("batchnorm-training-form-opset15", models.torch_bn_cnn, dict(opset=15), (2, 6, 6), 3),
    ("batchnorm-training-form-opset12", models.torch_bn_cnn, dict(opset=12), (2, 6, 6), 3),
    ("batchnorm-inference-form", models.inference_bn_model, {}, (5,), 3),
    ("transpose-clip-mean-sum-concat-logsoftmax", models.structure_ops_model, {}, (4, 3, 3), 5),
    ("shape-subgraph-view", models.torch_view_model, {}, (2, 6, 6), 4),
    ("batched-matmul", models.batched_matmul_model, {}, (6,), 3),
    ("constant-pad", models.pad_model, {}, (2, 4, 4), 3),
    ("lrn", models.lrn_model, {}, (3, 5, 5), 4),
]


def make_data(shape, classes, count, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count,) + shape).astype(np.float32)
    y = rng.integers(0, classes, count).astype(np.int64)
    return x, y


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer
            if t.data_type == onnx.TensorProto.FLOAT}


def relative_error(actual, expected):
    return np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-30)


def gradients_match(actual, expected, rtol=1e-4, atol=1e-6):
    """Relative agreement, with an absolute floor: some gradients are zero in
    exact arithmetic (a bias right before a training-mode batch norm) and
    both sides then hold only rounding noise."""
    return np.linalg.norm(actual - expected) <= rtol * np.linalg.norm(expected) + atol


def dlc_train(workdir, model, x, y, batch, steps, loss, lr, momentum=0.0, wd=0.0, flags=()):
    # The reference runs Dropout as in eval mode; test_dropout.py covers masks.
    exe = compile_model(model, workdir / "trainer", "--batch", batch, "--loss", loss,
                        "--lr", lr, "--momentum", momentum, "--weight-decay", wd,
                        "--dropout=off", *flags)
    xp, yp = save_npy_dataset(workdir, x, y)
    saved = workdir / "trained.onnx"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle",
                   "--steps", steps, "--log-every", 0, "--save", saved)
    assert result.returncode == 0, result
    return result.json, initializers(saved)


def torch_train(model, x, y, batch, steps, loss, lr, momentum=0.0, wd=0.0):
    module = OnnxModule(onnx.load(str(model)))
    optimizer = torch.optim.SGD(module.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    losses = []
    for step in range(steps):
        xb = torch.from_numpy(x[step * batch:(step + 1) * batch])
        yb = torch.from_numpy(y[step * batch:(step + 1) * batch])
        optimizer.zero_grad()
        value = reference_loss(loss, module, xb, yb)
        value.backward()
        optimizer.step()
        losses.append(value.item())
    return module, losses


@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
@pytest.mark.parametrize("name,builder,kwargs,shape,classes", MODELS, ids=[m[0] for m in MODELS])
def test_first_step_gradients_match_autograd(workdir, name, builder, kwargs, shape, classes, loss):
    """One SGD step with a large learning rate: (w0 - w1) / lr is dlc's
    gradient, compared with torch autograd's per parameter."""
    model = builder(workdir / "model.onnx", **kwargs)
    batch, lr = 8, 100.0
    x, y = make_data(shape, classes, batch, seed=10)
    summary, trained = dlc_train(workdir, model, x, y, batch, 1, loss, lr)

    module = OnnxModule(onnx.load(str(model)))
    reference = reference_loss(loss, module, torch.from_numpy(x), torch.from_numpy(y))
    reference.backward()
    assert summary["last_loss"] == pytest.approx(reference.item(), rel=1e-5)
    check_first_step(model, trained, module, lr)


def check_first_step(model, trained, module, lr):
    """Parameters: (w0 - w1) / lr against autograd. Running statistics: the
    saved values against the reference's after its forward pass."""
    initial = initializers(model)
    assert trained.keys() == initial.keys()
    for onnx_name, w0 in initial.items():
        if module.is_parameter(onnx_name):
            grad = (w0.astype(np.float64) - trained[onnx_name]) / lr
            expected = module.parameter(onnx_name).grad.double().numpy()
            assert gradients_match(grad, expected), (onnx_name, grad, expected)
        else:
            expected = module.state(onnx_name).numpy()
            assert relative_error(trained[onnx_name], expected) < 1e-5, onnx_name


def test_frozen_batchnorm_trains_with_running_statistics(workdir):
    """--batchnorm=frozen: normalization by the running statistics (PyTorch's
    eval-mode batch norm), which stay as they were."""
    model = models.torch_bn_cnn(workdir / "model.onnx")
    batch, lr = 8, 100.0
    x, y = make_data((2, 6, 6), 3, batch, seed=12)
    summary, trained = dlc_train(workdir, model, x, y, batch, 1, "cross-entropy", lr,
                                 flags=("--batchnorm=frozen",))
    module = OnnxModule(onnx.load(str(model)), batchnorm_training=False)
    reference = reference_loss("cross-entropy", module, torch.from_numpy(x), torch.from_numpy(y))
    reference.backward()
    assert summary["last_loss"] == pytest.approx(reference.item(), rel=1e-5)
    check_first_step(model, trained, module, lr)
    initial = initializers(model)
    stats = [n for n in initial if not module.is_parameter(n)]
    assert len(stats) == 4
    for name in stats:
        assert np.array_equal(trained[name], initial[name]), name


@pytest.mark.parametrize("name,builder,kwargs,shape,classes",
                         [MODELS[1], MODELS[4], MODELS[6], MODELS[9]],
                         ids=[MODELS[1][0], MODELS[4][0], MODELS[6][0], MODELS[9][0]])
def test_sgd_momentum_weight_decay_match_torch_optim(workdir, name, builder, kwargs, shape,
                                                     classes):
    """Several steps of SGD with momentum and weight decay: the losses and the
    trained weights follow torch.optim.SGD."""
    model = builder(workdir / "model.onnx", **kwargs)
    batch, steps = 16, 6
    x, y = make_data(shape, classes, batch * steps, seed=11)
    config = dict(loss="cross-entropy", lr=0.1, momentum=0.9, wd=0.01)
    summary, trained = dlc_train(workdir, model, x, y, batch, steps, **config)
    module, losses = torch_train(model, x, y, batch, steps, **config)
    assert summary["steps"] == steps
    assert summary["last_loss"] == pytest.approx(losses[-1], rel=1e-4)
    assert summary["train_loss"] == pytest.approx(np.mean(losses), rel=1e-4)
    for onnx_name, w in trained.items():
        expected = module.state(onnx_name).numpy()
        assert relative_error(w, expected) < 1e-4, onnx_name


@pytest.mark.parametrize("overlap", ["next-forward", "backward"])
def test_save_under_mpirun_after_pipelined_steps_matches_torch_optim(workdir, overlap):
    """Two ranks, each half of the global batch: with --overlap=next-forward
    the last step's averages and updates are still in flight when training
    ends, and --save must complete them first. The saved weights follow
    torch.optim.SGD on the global batch."""
    model = models.torch_mlp(workdir / "model.onnx", opset=13)
    ranks, batch, steps = 2, 8, 5
    x, y = make_data((20,), 5, ranks * batch * steps, seed=13)
    config = dict(loss="cross-entropy", lr=0.1, momentum=0.9, wd=0.01)
    exe = compile_model(model, workdir / "trainer", "--batch", batch, "--loss", config["loss"],
                        "--lr", config["lr"], "--momentum", config["momentum"],
                        "--weight-decay", config["wd"], "--overlap=" + overlap)
    xp, yp = save_npy_dataset(workdir, x, y)
    saved = workdir / "trained.onnx"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--no-shuffle", "--steps", steps,
                   "--log-every", 0, "--save", saved, ranks=ranks)
    assert result.returncode == 0, result
    module, losses = torch_train(model, x, y, ranks * batch, steps, **config)
    assert result.json["last_loss"] == pytest.approx(losses[-1], rel=1e-4)
    for onnx_name, w in initializers(saved).items():
        assert relative_error(w, module.state(onnx_name).numpy()) < 1e-4, onnx_name
