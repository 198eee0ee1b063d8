"""Small ONNX models for the end-to-end tests: exported by PyTorch, or built
node by node with onnx.helper where an exact node pattern is wanted."""
import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from dlc_tools.export_mlp import build_mlp, export


def torch_mlp(path, sizes=(20, 16, 12, 5), opset=13, softmax=False,
              symbolic_batch=True, seed=0):
    torch.manual_seed(seed)
    export(build_mlp(list(sizes), softmax), str(path), (1, sizes[0]), opset,
           symbolic_batch)
    return path


def _init(name, shape, rng, scale=0.3):
    values = rng.standard_normal(shape) * scale
    return numpy_helper.from_array(values.astype(np.float32), name)


def _save(nodes, name, inputs, output, initializers, opset, path):
    graph = helper.make_graph(nodes, name, inputs, [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def matmul_add_model(path, features=12, hidden=8, classes=4, seed=1):
    """MatMul + Add + Relu, a Reshape with a Constant shape (0 and -1
    entries), Identity, Dropout, and a Gemm with alpha, beta, transB and a
    row-vector bias."""
    rng = np.random.default_rng(seed)
    shape = numpy_helper.from_array(np.array([0, -1], np.int64))
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h1"], name="mm1"),
        helper.make_node("Add", ["h1", "b1"], ["h2"], name="add1"),
        helper.make_node("Relu", ["h2"], ["h3"], name="relu1"),
        helper.make_node("Constant", [], ["shape"], name="shape", value=shape),
        helper.make_node("Reshape", ["h3", "shape"], ["h4"], name="reshape1"),
        helper.make_node("Identity", ["h4"], ["h5"], name="id1"),
        helper.make_node("Dropout", ["h5"], ["h6"], name="drop1"),
        helper.make_node("Gemm", ["h6", "w2", "b2"], ["y"], name="gemm2",
                         transB=1, alpha=0.5, beta=2.0),
    ]
    return _save(nodes, "matmul_add",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", features])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", classes]),
                 [_init("w1", (features, hidden), rng), _init("b1", (hidden,), rng),
                  _init("w2", (classes, hidden), rng), _init("b2", (1, classes), rng)],
                 13, path)


def trans_a_model(path, batch=4, features=6, hidden=5, classes=3, seed=2):
    """Gemms with transA set on a parameter and on an activation:
    h = P^T x^T (hidden x batch), y = h^T W + c (batch x classes)."""
    rng = np.random.default_rng(seed)
    nodes = [
        helper.make_node("Gemm", ["p", "x"], ["h"], name="g1", transA=1, transB=1),
        helper.make_node("Relu", ["h"], ["hr"], name="r1"),
        helper.make_node("Gemm", ["hr", "w", "c"], ["y"], name="g2", transA=1),
    ]
    return _save(nodes, "trans_a",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, features])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, classes]),
                 [_init("p", (features, hidden), rng), _init("w", (hidden, classes), rng),
                  _init("c", (classes,), rng)],
                 11, path)


def unsupported_op_model(path):
    """A model with a Sin node, which dlc does not support."""
    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
        helper.make_node("Sin", ["h"], ["y"], name="the_sine"),
    ]
    return _save(nodes, "unsupported",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
                 [_init("w", (3, 4), rng)], 13, path)


def elementwise_model(path, features=6, hidden=8, classes=4, seed=4):
    """Sigmoid, Mul, Sub, Tanh, Div and LeakyRelu between two Gemms, with
    broadcasting against parameters, a Constant divisor, and an activation
    read twice (its gradients add up)."""
    rng = np.random.default_rng(seed)
    divisor = (1.5 + np.abs(rng.standard_normal(hidden))).astype(np.float32)
    two = numpy_helper.from_array(np.array(2.0, np.float32))
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1", transB=1),
        helper.make_node("Sigmoid", ["h1"], ["h2"], name="sigmoid"),
        helper.make_node("Mul", ["h2", "s"], ["h3"], name="scale"),
        helper.make_node("Sub", ["h3", "m"], ["h4"], name="shift"),
        helper.make_node("Tanh", ["h4"], ["h5"], name="tanh"),
        helper.make_node("Div", ["h5", "d"], ["h6"], name="divide"),
        helper.make_node("LeakyRelu", ["h6"], ["h7"], name="leaky", alpha=0.2),
        helper.make_node("Constant", [], ["two"], name="two", value=two),
        helper.make_node("Div", ["h7", "two"], ["h8"], name="halve"),
        helper.make_node("Mul", ["h8", "h1"], ["h9"], name="gate"),
        helper.make_node("Gemm", ["h9", "w2", "b2"], ["y"], name="fc2", transB=1),
    ]
    return _save(nodes, "elementwise",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", features])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", classes]),
                 [_init("w1", (hidden, features), rng), _init("b1", (hidden,), rng),
                  _init("s", (hidden,), rng, 1.0), _init("m", (1, hidden), rng),
                  numpy_helper.from_array(divisor, "d"),
                  _init("w2", (classes, hidden), rng), _init("b2", (classes,), rng)],
                 13, path)
