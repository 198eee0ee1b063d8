"""Small ONNX models for the end-to-end tests: exported by PyTorch, or built
node by node with onnx.helper where an exact node pattern is wanted."""
import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from dlc_tools.export_cnn import export_fashion_cnn
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


def torch_lenet(path, seed=0, opset=13):
    """LeNet-5 style, as PyTorch exports it: conv-relu-maxpool twice, then
    three fully connected layers, on 1 x 28 x 28 images."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))
    export(model, str(path), (1, 1, 28, 28), opset)
    return path


def conv_zoo_model(path, seed=5):
    """The convolution and pooling variants in one graph: stride, asymmetric
    pads and dilation with bias; depthwise with auto_pad SAME_UPPER and no
    bias; grouped 1x1; overlapping padded max pooling; average pooling with
    and without count_include_pad; global average pooling."""
    rng = np.random.default_rng(seed)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="strided_dilated",
                         strides=[2, 2], pads=[1, 0, 2, 1], dilations=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="depthwise", group=8,
                         auto_pad="SAME_UPPER", kernel_shape=[3, 3]),
        helper.make_node("Conv", ["c2", "w3", "b3"], ["c3"], name="grouped", group=2),
        helper.make_node("MaxPool", ["c3"], ["m"], name="maxpool", kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("AveragePool", ["m"], ["a1"], name="avg_incl", kernel_shape=[2, 2],
                         pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("AveragePool", ["a1"], ["a2"], name="avg_excl", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Tanh", ["a2"], ["t"], name="tanh"),
        helper.make_node("GlobalAveragePool", ["t"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w4", "b4"], ["y"], name="fc", transB=1),
    ]
    return _save(nodes, "conv_zoo",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 12, 12])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
                 [_init("w1", (8, 4, 3, 3), rng), _init("b1", (8,), rng),
                  _init("w2", (8, 1, 3, 3), rng), _init("w3", (4, 4, 1, 1), rng),
                  _init("b3", (4,), rng), _init("w4", (3, 4), rng, 1.0),
                  _init("b4", (3,), rng)],
                 13, path)


def torch_fashion_cnn(path, seed=0, opset=13):
    """The issue's LeNet-style CNN (see dlc_tools.export_cnn)."""
    return export_fashion_cnn(path, seed, opset)


def torch_bn_cnn(path, opset=15, seed=6):
    """Conv-BatchNorm-ReLU-MaxPool and Linear-BatchNorm1d, exported by PyTorch
    in training mode (BatchNormalization with its running-statistic
    outputs), with running statistics that are not the defaults."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(4 * 3 * 3, 8), torch.nn.BatchNorm1d(8), torch.nn.Tanh(),
        torch.nn.Linear(8, 3))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    torch.onnx.export(model, torch.zeros(4, 2, 6, 6), str(path), input_names=["input"],
                      output_names=["output"], opset_version=opset,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return path


def inference_bn_model(path, seed=7):
    """BatchNormalization in inference form (one output), on a 2-D input."""
    rng = np.random.default_rng(seed)
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("BatchNormalization", ["h", "gamma", "beta", "mean", "var"], ["n"],
                         name="bn", epsilon=1e-3, momentum=0.8),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc2", transB=1),
    ]
    var = numpy_helper.from_array((0.5 + rng.random(6)).astype(np.float32), "var")
    return _save(nodes, "bn_inference",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
                 [_init("w1", (6, 5), rng), _init("b1", (6,), rng),
                  _init("gamma", (6,), rng), _init("beta", (6,), rng),
                  _init("mean", (6,), rng), var,
                  _init("w2", (3, 6), rng), _init("b2", (3,), rng)],
                 9, path)


def structure_ops_model(path, seed=8):
    """Transpose, Reshape, Clip (Constant bounds, as ReLU6 exports),
    ReduceMean without keepdims, Sum, Concat and a final LogSoftmax, all
    behind a learned per-channel scale so every gradient is needed."""
    rng = np.random.default_rng(seed)
    lo = numpy_helper.from_array(np.array(-0.5, np.float32))
    hi = numpy_helper.from_array(np.array(0.7, np.float32))
    shape = numpy_helper.from_array(np.array([0, -1], np.int64))
    nodes = [
        helper.make_node("Mul", ["x", "g"], ["xs"], name="channel_scale"),
        helper.make_node("Transpose", ["xs"], ["t"], name="nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Constant", [], ["shape"], name="shape", value=shape),
        helper.make_node("Reshape", ["t", "shape"], ["r"], name="flatten"),
        helper.make_node("Gemm", ["r", "w1", "b1"], ["a"], name="fc1", transB=1),
        helper.make_node("Constant", [], ["lo"], name="lo", value=lo),
        helper.make_node("Constant", [], ["hi"], name="hi", value=hi),
        helper.make_node("Clip", ["a", "lo", "hi"], ["c"], name="clip"),
        helper.make_node("ReduceMean", ["xs"], ["m"], name="mean", axes=[2, 3], keepdims=0),
        helper.make_node("Sum", ["c", "a", "b3"], ["s"], name="sum"),
        helper.make_node("Concat", ["s", "m"], ["cat"], name="cat", axis=1),
        helper.make_node("Gemm", ["cat", "w2", "b2"], ["y"], name="fc2", transB=1),
        helper.make_node("LogSoftmax", ["y"], ["out"], name="logsoftmax", axis=1),
    ]
    return _save(nodes, "structure",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3, 3])],
                 helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 5]),
                 [_init("g", (4, 1, 1), rng, 1.0),
                  _init("w1", (8, 36), rng), _init("b1", (8,), rng), _init("b3", (8,), rng),
                  _init("w2", (5, 12), rng, 0.5), _init("b2", (5,), rng)],
                 13, path)


def torch_view_model(path, seed=9):
    """Flattening with x.view(x.size(0), -1): PyTorch exports the shape
    arithmetic as Shape, Gather, Unsqueeze and Concat feeding Reshape; an
    unsqueeze and squeeze of a float tensor follow."""
    torch.manual_seed(seed)

    class View(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 3, 3)
            self.fc = torch.nn.Linear(3 * 4 * 4, 4)

        def forward(self, x):
            y = torch.relu(self.conv(x))
            y = self.fc(y.view(y.size(0), -1))
            return y.unsqueeze(1).squeeze(1)

    torch.onnx.export(View(), torch.zeros(2, 2, 6, 6), str(path), input_names=["input"],
                      output_names=["output"], opset_version=13,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return path


def batched_matmul_model(path, seed=10):
    """N-D MatMul: a 2-D parameter broadcast over the batch, a 3-D parameter
    with a broadcast batch dimension, and a product of two activations."""
    rng = np.random.default_rng(seed)
    shape3 = numpy_helper.from_array(np.array([0, 2, 3], np.int64))
    flat = numpy_helper.from_array(np.array([0, -1], np.int64))
    nodes = [
        helper.make_node("Constant", [], ["s3"], name="s3", value=shape3),
        helper.make_node("Reshape", ["x", "s3"], ["x3"], name="to3d"),
        helper.make_node("MatMul", ["x3", "w1"], ["h"], name="mm_param2d"),
        helper.make_node("Relu", ["h"], ["hr"], name="relu"),
        helper.make_node("MatMul", ["hr", "w2"], ["k"], name="mm_param3d"),
        helper.make_node("Transpose", ["hr"], ["ht"], name="t", perm=[0, 2, 1]),
        helper.make_node("MatMul", ["hr", "ht"], ["g"], name="mm_activations"),
        helper.make_node("Add", ["g", "k"], ["s"], name="add"),
        helper.make_node("Constant", [], ["flat"], name="flat", value=flat),
        helper.make_node("Reshape", ["s", "flat"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], name="fc", transB=1),
    ]
    return _save(nodes, "batched_matmul",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
                 [_init("w1", (3, 4), rng), _init("w2", (1, 4, 2), rng),
                  _init("w3", (3, 4), rng), _init("b3", (3,), rng)],
                 13, path)


def pad_model(path, seed=11):
    """Constant Pad (asymmetric, value 0.5, pads and value as Constant
    inputs, opset 13) behind a learned scale, then a convolution."""
    rng = np.random.default_rng(seed)
    pads = numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))
    value = numpy_helper.from_array(np.array(0.5, np.float32))
    nodes = [
        helper.make_node("Mul", ["x", "g"], ["xs"], name="scale"),
        helper.make_node("Constant", [], ["pads"], name="pads", value=pads),
        helper.make_node("Constant", [], ["value"], name="value", value=value),
        helper.make_node("Pad", ["xs", "pads", "value"], ["p"], name="pad"),
        helper.make_node("Conv", ["p", "w"], ["c"], name="conv"),
        helper.make_node("GlobalAveragePool", ["c"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], name="fc", transB=1),
    ]
    return _save(nodes, "pad",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
                 [_init("g", (2, 1, 1), rng, 1.0), _init("w", (3, 2, 3, 3), rng),
                  _init("w2", (3, 3), rng), _init("b2", (3,), rng)],
                 13, path)


def lrn_model(path, seed=12):
    """LRN (size 5, as AlexNet) after a convolution with 7 channels."""
    rng = np.random.default_rng(seed)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("LRN", ["c"], ["n"], name="lrn", size=5, alpha=0.05, beta=0.75,
                         bias=2.0),
        helper.make_node("GlobalAveragePool", ["n"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], name="fc", transB=1),
    ]
    return _save(nodes, "lrn",
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 5, 5])],
                 helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4]),
                 [_init("w", (7, 3, 3, 3), rng, 1.0), _init("b", (7,), rng),
                  _init("w2", (4, 7), rng), _init("b2", (4,), rng)],
                 13, path)
