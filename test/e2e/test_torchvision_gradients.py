"""First-step gradients of torchvision models compiled by dlc, against
PyTorch autograd on the torchvision model itself (same weights and data,
cross-entropy averaged over the batch, BatchNorm in training mode).
Small inputs keep the tests quick; the structures are the real ones.

ResNet-18, AlexNet and VGG-16: per parameter, the relative error
||g - g_torch|| / ||g_torch|| is at most 1e-3 (measured for ResNet-18 and
VGG-16: at most 5e-6).

The input is 64 x 64 with a batch of 4, so the last stage's batch norms see
16 values per channel: with 2 (32 x 32, batch 2), a batch norm of two values
amplifies float rounding so much that two PyTorch implementations of the same
graph already disagree in the loss's fourth digit.

ResNet-50 cannot be held to 1e-3 against PyTorch's float32 gradients, by dlc
or by any float32 implementation that does not round exactly as PyTorch
does. At torchvision's initialisation the residual stream's variance grows
over the 16 blocks until the backward pass is ill-conditioned: PyTorch's own
float32 gradients are 2-3% away from its float64 ones (159 of 161
parameters beyond 1e-3, at inputs from 64 to 128 pixels and batches from 2
to 16). Scaling each branch's last BatchNorm weight to 0.5 cures that
(PyTorch float32 within 3e-5 of float64), but then some 150 ReLU
inputs lie within 1e-5 (relative) of the kink, and one that float32 rounding
puts on the other side (image 2, channel 1201 of the last block, 1.8e-6
from it) changes that channel's gradient and everything upstream of it.
There dlc's float32 gradients are held to PyTorch's accuracy instead: per
parameter, the distance to the float64 gradient is at most twice PyTorch's
float32 distance, plus 1e-4. ResNet-18 is held to that form too with oneDNN
limited to AVX2 (DNNL_MAX_CPU_ISA), the kernels an AMD Zen 3 machine runs:
the CPU differs between the machines these tests run on.

AlexNet and VGG-16 run at 224 x 224 (their adaptive average pooling must
divide the feature map, which smaller inputs do not allow) and without
dropout (`--dropout=off`, PyTorch in eval mode; they have no batch norm), so
that the two sides compute the same function."""
import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from conftest import compile_model, save_npy_dataset, train
from dlc_tools import export_torchvision

SIZE, BATCH, CLASSES = 64, 4, 10
LARGE_SIZE, LARGE_BATCH = 224, 2


def relative(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12)


def dlc_first_step_gradients(workdir, name, size=SIZE, batch=BATCH, flags=(), env=None):
    """Exports `name`, trains one step with dlc; returns the PyTorch model
    (with the exported weights), the data, the summary and the gradients."""
    model = export_torchvision.build(name, CLASSES)
    path = workdir / (name + ".onnx")
    export_torchvision.export(model, path, size, batch)
    export_torchvision.load_onnx_weights(model, path)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
    y = rng.integers(0, CLASSES, batch)
    exe = compile_model(path, workdir / "trainer", "--batch", batch, *flags)
    xp, yp = save_npy_dataset(workdir, x, y)
    dump = workdir / "grads"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1, "--no-shuffle",
                   "--dump-gradients", dump, "--log-every", 0, env=env)
    assert result.returncode == 0, result
    exe.unlink()  # hundreds of megabytes: the weights, twice
    names = [n for n, _ in model.named_parameters()]
    assert sorted(p.name for p in dump.iterdir()) == sorted(
        n.replace("/", "_") + ".pb" for n in names)
    grads = {}
    for n in names:
        tensor = onnx.TensorProto()
        tensor.ParseFromString((dump / (n.replace("/", "_") + ".pb")).read_bytes())
        assert tensor.name == n
        grads[n] = numpy_helper.to_array(tensor).astype(np.float64)
    return model, path, x, y, result.json, grads


def torch_gradients(model, x, y, train=True):
    model.train(train)
    loss = torch.nn.functional.cross_entropy(model(x), torch.from_numpy(y))
    loss.backward()
    return loss.item(), {n: p.grad.double().numpy() for n, p in model.named_parameters()}


# name: (input size, batch, dlc flags)
CASES = {
    "resnet18": (SIZE, BATCH, ()),
    "alexnet": (LARGE_SIZE, LARGE_BATCH, ("--dropout=off",)),
    "vgg16": (LARGE_SIZE, LARGE_BATCH, ("--dropout=off",)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_step_gradients_match_pytorch(workdir, name):
    size, batch, flags = CASES[name]
    model, _, x, y, summary, grads = dlc_first_step_gradients(workdir, name, size, batch,
                                                              flags)
    train = "--dropout=off" not in flags
    loss, expected = torch_gradients(model, torch.from_numpy(x), y, train=train)
    assert summary["last_loss"] == pytest.approx(loss, rel=1e-4)
    for n, grad in grads.items():
        assert grad.shape == expected[n].shape, n
    worst = max((relative(grad, expected[n]), n) for n, grad in grads.items())
    assert worst[0] <= 1e-3, worst


@pytest.mark.parametrize("name,isa", [("resnet50", None), ("resnet18", "AVX2")],
                         ids=["resnet50", "resnet18-avx2"])
def test_first_step_gradients_are_as_accurate_as_pytorch(workdir, name, isa):
    env = {"DNNL_MAX_CPU_ISA": isa} if isa else None
    model, path, x, y, summary, grads = dlc_first_step_gradients(workdir, name, env=env)
    loss32, torch32 = torch_gradients(model, torch.from_numpy(x), y)
    exact_model = export_torchvision.build(name, CLASSES)
    export_torchvision.load_onnx_weights(exact_model, path)
    _, exact = torch_gradients(exact_model.double(), torch.from_numpy(x).double(), y)
    assert summary["last_loss"] == pytest.approx(loss32, rel=1e-4)
    for name, grad in grads.items():
        assert grad.shape == exact[name].shape, name
        ours, theirs = relative(grad, exact[name]), relative(torch32[name], exact[name])
        assert ours <= 2 * theirs + 1e-4, (name, ours, theirs)
