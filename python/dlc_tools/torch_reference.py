"""PyTorch reference for dlc: runs an ONNX graph with torch ops and autograd.

The reference is independent of dlc: each supported ONNX node is evaluated
with the corresponding torch function, float initializers become
``nn.Parameter``s, and training uses ``torch.optim.SGD`` and torch's losses.
"""
import numpy as np
import onnx
import torch
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxModule(torch.nn.Module):
    """A torch module that evaluates a (single-input, single-output) ONNX graph."""

    def __init__(self, model: onnx.ModelProto):
        super().__init__()
        self.graph = model.graph
        self.opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        self.params = torch.nn.ParameterDict()
        self.names = {}  # ONNX initializer name -> ParameterDict key
        self.constants = {}
        for init in model.graph.initializer:
            array = numpy_helper.to_array(init)
            if array.dtype == np.float32:
                key = "p%d" % len(self.names)
                self.names[init.name] = key
                self.params[key] = torch.nn.Parameter(torch.from_numpy(array.copy()))
            else:
                self.constants[init.name] = torch.from_numpy(array.copy())
        known = set(self.names) | set(self.constants)
        self.input_name = next(i.name for i in model.graph.input if i.name not in known)

    def parameter(self, onnx_name):
        return self.params[self.names[onnx_name]]

    def forward(self, x, logits=False):
        """The graph's output; with ``logits``, a final Softmax's input."""
        values = dict(self.constants)
        values.update({name: self.params[key] for name, key in self.names.items()})
        values[self.input_name] = x
        output = self.graph.output[0].name
        for node in self.graph.node:
            ins = [values[name] if name else None for name in node.input]
            if logits and node.op_type == "Softmax" and node.output[0] == output:
                return ins[0]
            values[node.output[0]] = self._run(node, ins, _attrs(node))
        return values[output]

    def _run(self, node, ins, attrs):
        op = node.op_type
        if op == "Gemm":
            a = ins[0].t() if attrs.get("transA", 0) else ins[0]
            b = ins[1].t() if attrs.get("transB", 0) else ins[1]
            y = attrs.get("alpha", 1.0) * (a @ b)
            if len(ins) > 2 and ins[2] is not None:
                y = y + attrs.get("beta", 1.0) * ins[2]
            return y
        if op == "MatMul":
            return ins[0] @ ins[1]
        if op == "Add":
            return ins[0] + ins[1]
        if op == "Sub":
            return ins[0] - ins[1]
        if op == "Mul":
            return ins[0] * ins[1]
        if op == "Div":
            return ins[0] / ins[1]
        if op == "Relu":
            return torch.relu(ins[0])
        if op == "Sigmoid":
            return torch.sigmoid(ins[0])
        if op == "Tanh":
            return torch.tanh(ins[0])
        if op == "LeakyRelu":
            return torch.nn.functional.leaky_relu(ins[0], attrs.get("alpha", 0.01))
        if op in ("Identity", "Dropout"):
            return ins[0]
        if op == "Flatten":
            axis = attrs.get("axis", 1)
            return ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        if op == "Reshape":
            shape = [int(d) if d != 0 else ins[0].shape[i] for i, d in enumerate(ins[1].tolist())]
            return ins[0].reshape(shape)
        if op == "Softmax":
            return torch.softmax(ins[0], dim=attrs.get("axis", -1 if self.opset >= 13 else 1))
        if op == "Constant":
            return torch.from_numpy(numpy_helper.to_array(attrs["value"]).copy())
        raise NotImplementedError(op)


def reference_loss(name, module, x, labels):
    """The loss dlc trains with, written with torch's own functions.

    Cross-entropy of a model that ends in Softmax is taken of the softmax's
    input (torch's CrossEntropyLoss on logits), as dlc computes it.
    """
    if name == "cross-entropy":
        return torch.nn.functional.cross_entropy(module(x, logits=True), labels)
    output = module(x)
    one_hot = torch.nn.functional.one_hot(labels, output.shape[1]).float()
    return torch.nn.functional.mse_loss(output, one_hot)
