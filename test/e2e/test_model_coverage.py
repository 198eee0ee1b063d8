"""The pooling variants real models export (GoogLeNet and the Inception family
use ceil_mode=1), dilated max pooling and 1-D pooling: trained by dlc, their
first-step gradients match PyTorch autograd on the PyTorch model itself. An
opset-6 model (older than PyTorch exports) whose ops mean what they mean
today imports and trains."""
import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from conftest import compile_model, save_npy_dataset, train
from test_training_vs_pytorch import gradients_match, initializers

LR = 100.0


def pooled_2d():
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(3, 2, ceil_mode=True),                     # 9 -> 4 (floor: 4)
        torch.nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False),  # 4 -> 2
        torch.nn.Conv2d(3, 4, 1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, 1, padding=1, dilation=2),              # 2 -> 2
        torch.nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),          # 2 -> 2
        torch.nn.Flatten(), torch.nn.Linear(4 * 2 * 2, 3)), (2, 9, 9)


def pooled_ceil_extra():
    """ceil mode where the last window hangs past the input."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, 2, ceil_mode=True),                     # 9 -> 5
        torch.nn.AvgPool2d(2, 2, ceil_mode=True),                     # 5 -> 3
        torch.nn.Flatten(), torch.nn.Linear(2 * 3 * 3, 3)), (1, 11, 11)


def pooled_1d():
    return torch.nn.Sequential(
        torch.nn.MaxPool1d(3, 2, ceil_mode=True),                     # 12 -> 6
        torch.nn.AvgPool1d(2, 2, padding=1, count_include_pad=False),  # 6 -> 4
        torch.nn.MaxPool1d(2, 1, dilation=2),                         # 4 -> 2
        torch.nn.Flatten(), torch.nn.Linear(3 * 2, 3)), (3, 12)


@pytest.mark.parametrize("build", [pooled_2d, pooled_ceil_extra, pooled_1d],
                         ids=["ceil-dilated-2d", "ceil-overhang-2d", "1d"])
def test_pooling_variants_train_like_pytorch(workdir, build):
    torch.manual_seed(0)
    model, shape = build()
    batch = 4
    path = workdir / "m.onnx"
    torch.onnx.export(model, torch.zeros((batch,) + shape), str(path), opset_version=13,
                      input_names=["x"], output_names=["y"])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    y = rng.integers(0, 3, batch)
    exe = compile_model(path, workdir / "t", "--batch", batch, "--lr", LR)
    xp, yp = save_npy_dataset(workdir, x, y)
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1, "--no-shuffle",
                   "--save", workdir / "out.onnx", "--log-every", 0)
    assert result.returncode == 0, result
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    assert result.json["last_loss"] == pytest.approx(loss.item(), rel=1e-5)
    before, after = initializers(path), initializers(workdir / "out.onnx")
    grads = {n: p.grad.double().numpy() for n, p in model.named_parameters()}
    assert before.keys() == grads.keys()
    for name, w0 in before.items():
        grad = (w0.astype(np.float64) - after[name]) / LR
        assert gradients_match(grad, grads[name]), name


def test_opset_6_model_trains(workdir):
    """Gemm, Relu (with its legacy consumed_inputs hint) and Softmax at
    opset 6 mean what they do at opset 13."""
    rng = np.random.default_rng(2)
    w1 = numpy_helper.from_array(rng.standard_normal((5, 4)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((3, 5)).astype(np.float32), "w2")
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["r"], consumed_inputs=[0]),
             helper.make_node("Gemm", ["r", "w2"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "old", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                          ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              [w1, w2])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)])
    path = workdir / "old.onnx"
    onnx.save(model, str(path))
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    exe = compile_model(path, workdir / "t", "--batch", 8, "--lr", LR)
    xp, yp = save_npy_dataset(workdir, x, y)
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1, "--save",
                   workdir / "out.onnx", "--log-every", 0)
    assert result.returncode == 0, result
    tw1 = torch.tensor(numpy_helper.to_array(w1), requires_grad=True)
    tw2 = torch.tensor(numpy_helper.to_array(w2), requires_grad=True)
    logits = torch.relu(torch.from_numpy(x) @ tw1.T) @ tw2.T
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    assert result.json["last_loss"] == pytest.approx(loss.item(), rel=1e-5)
    after = initializers(workdir / "out.onnx")
    for name, t in (("w1", tw1), ("w2", tw2)):
        grad = (t.detach().double().numpy() - after[name]) / LR
        assert gradients_match(grad, t.grad.double().numpy()), name


def test_batch_norm_changed_meaning_before_opset_7_is_refused(workdir):
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                              name="bn", is_test=1)]
    inits = [numpy_helper.from_array(np.ones(3, np.float32), n) for n in "sbmv"]
    graph = helper.make_graph(nodes, "old", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                          ["N", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              inits)
    path = workdir / "bn6.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)]), str(path))
    from conftest import DLC, run
    result = run([DLC, path, "--emit=mlir"])
    assert result.returncode == 1
    assert "before opset 7 BatchNormalization meant something else" in result.stderr, result
