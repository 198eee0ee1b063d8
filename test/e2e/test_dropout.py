"""Dropout trains with a fresh seeded mask and infers as the identity.

With a batch of one and y = dropout(x) W^T, the weight gradient is
dW[c, f] = dlogits[c] * mask[f] * x[f], so the mask can be read off dlc's
gradient and checked: about `ratio` of the features dropped, the rest scaled
by exactly 1 / (1 - ratio) (PyTorch's gradient with that mask matches), the
same mask for the same seed and another for another seed."""
import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from conftest import compile_model, save_npy_dataset, train

FEATURES, CLASSES, RATIO = 2000, 2, 0.3


def dropout_model(path, opset):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array((rng.standard_normal((CLASSES, FEATURES)) * 0.02)
                                .astype(np.float32), "w")
    inputs, inits, attrs = ["x"], [w], {}
    if opset >= 12:
        inits.append(numpy_helper.from_array(np.array(RATIO, np.float32), "ratio"))
        inputs.append("ratio")
    else:
        attrs["ratio"] = RATIO
    nodes = [helper.make_node("Dropout", inputs, ["d"], name="drop", **attrs),
             helper.make_node("Gemm", ["d", "w"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "dropout",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", FEATURES])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", CLASSES])],
                              inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def first_step(workdir, exe, x, y, seed, tag):
    xp, yp = save_npy_dataset(workdir, x, y, tag)
    saved = workdir / (tag + ".onnx")
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1, "--seed", seed,
                   "--no-shuffle", "--save", saved, "--log-every", 0)
    assert result.returncode == 0, result
    trained = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(saved)).graph.initializer}
    return result.json, trained["w"]


@pytest.mark.parametrize("opset", [11, 13])
def test_dropout_masks_are_seeded_scaled_and_fresh(workdir, opset):
    model = dropout_model(workdir / "m.onnx", opset)
    lr = 1.0
    exe = compile_model(model, workdir / "t", "--batch", 1, "--lr", lr)
    w0 = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(model)).graph.initializer}["w"]
    rng = np.random.default_rng(1)
    x = (rng.random((1, FEATURES)) + 0.5).astype(np.float32)  # no zeros in x
    y = np.array([1])

    summary, w1 = first_step(workdir, exe, x, y, 7, "a")
    grad = (w0.astype(np.float64) - w1) / lr
    kept = np.abs(grad[0]) > 1e-12
    assert np.array_equal(kept, np.abs(grad[1]) > 1e-12)
    assert abs((~kept).mean() - RATIO) < 0.05, (~kept).mean()

    mask = torch.from_numpy(kept.astype(np.float32) / (1 - RATIO))
    wt = torch.from_numpy(w0.copy()).requires_grad_()
    logits = (torch.from_numpy(x) * mask) @ wt.t()
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
    loss.backward()
    assert summary["last_loss"] == pytest.approx(loss.item(), rel=1e-5)
    np.testing.assert_allclose(grad, wt.grad.double().numpy(), rtol=1e-4, atol=1e-9)

    _, again = first_step(workdir, exe, x, y, 7, "b")
    assert np.array_equal(again, w1)
    _, other = first_step(workdir, exe, x, y, 8, "c")
    other_kept = np.abs((w0 - other)[0]) > 1e-12
    assert not np.array_equal(other_kept, kept)


def test_dropout_is_the_identity_in_evaluation(workdir):
    """The test accuracy comes from @forward, where dropout does nothing: it
    matches the saved model run without dropout."""
    from dlc_tools.torch_reference import OnnxModule
    model = dropout_model(workdir / "m.onnx", 13)
    exe = compile_model(model, workdir / "t", "--batch", 4, "--lr", 0.5)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, FEATURES)).astype(np.float32)
    y = (x[:, :10].sum(1) > 0).astype(np.int64)
    paths = save_npy_dataset(workdir, x, y) + save_npy_dataset(workdir, x[:21], y[:21], "test")
    saved = workdir / "trained.onnx"
    result = train(exe, "--train-x", paths[0], "--train-y", paths[1], "--test-x", paths[2],
                   "--test-y", paths[3], "--epochs", 2, "--save", saved, "--log-every", 0)
    assert result.returncode == 0, result
    with torch.no_grad():
        predicted = OnnxModule(onnx.load(str(saved)))(torch.from_numpy(x[:21])).argmax(1).numpy()
    assert result.json["test_accuracy"] == pytest.approx((predicted == y[:21]).mean())
