"""The GPU check's network of the ops and forms the benchmark CNNs do not
use (dlc_tools.export_ops: LRN, Transpose, Concat, Clip, an N-D MatMul,
Softmax, Pad, an unevenly padded convolution, ceil-mode and dilated
pooling, LogSoftmax) on the CPU: its first-step gradients match PyTorch
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
    nodes = onnx.load(str(path)).graph.node
    assert {"LRN", "Pad", "Softmax", "LogSoftmax", "AveragePool"} <= {n.op_type for n in nodes}
    attributes = [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                  for n in nodes if n.op_type in ("Conv", "MaxPool", "AveragePool")]
    assert {"pads": [1, 0, 2, 1]}.items() <= attributes[3].items()  # uneven
    assert attributes[4]["dilations"] == [2, 2]
    assert all(a["ceil_mode"] == 1 for a in (attributes[1], attributes[5]))
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
