"""The GPU check's network of the ops the benchmark CNNs do not use
(dlc_tools.export_ops: LRN, Transpose, Concat, Clip, an N-D MatMul, Softmax,
Pad, LogSoftmax) on the CPU: its first-step gradients match PyTorch
autograd on the same module, per parameter within 1e-4 (relative), with
the same weights and data. The GPU check holds the CUDA build of the same
network to PyTorch on the GPU."""
import numpy as np
import onnx
import torch
from onnx import numpy_helper

from conftest import compile_model, save_npy_dataset, train
from dlc_tools.export_ops import build_ops_network

BATCH = 4


def test_ops_network_gradients_match_pytorch(workdir):
    model = build_ops_network(seed=3)
    path = workdir / "ops.onnx"
    torch.onnx.export(model, torch.zeros(BATCH, 3, 8, 8), str(path), input_names=["input"],
                      output_names=["logits"], opset_version=13)
    assert {"LRN", "Pad", "Softmax", "LogSoftmax"} <= {
        node.op_type for node in onnx.load(str(path)).graph.node}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 3, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    exe = compile_model(path, workdir / "trainer", "--batch", BATCH)
    xp, yp = save_npy_dataset(workdir, x, y)
    dump = workdir / "grads"
    result = train(exe, "--train-x", xp, "--train-y", yp, "--steps", 1, "--no-shuffle",
                   "--dump-gradients", dump, "--log-every", 0)
    assert result.returncode == 0, result

    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    for name, param in model.named_parameters():
        tensor = onnx.TensorProto()
        tensor.ParseFromString((dump / (name + ".pb")).read_bytes())
        mine = numpy_helper.to_array(tensor).astype(np.float64)
        theirs = param.grad.numpy().astype(np.float64)
        error = np.linalg.norm(mine - theirs) / np.linalg.norm(theirs)
        assert error <= 1e-4, (name, error)
