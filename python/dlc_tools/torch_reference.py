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


class _RoundGradient(torch.autograd.Function):
    """The identity forward; backward, the gradient rounded by `fn`."""

    @staticmethod
    def forward(ctx, x, fn):
        ctx.fn = fn
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return ctx.fn(grad), None


def _rounded_value(x, fn):
    """`fn(x)` forward, the identity backward: a tensor stored rounded."""
    return x + (fn(x) - x).detach()


class OnnxModule(torch.nn.Module):
    """A torch module that evaluates a (single-input, single-output) ONNX graph.

    To mirror a program that keeps tensors in narrower formats,
    ``round_values`` maps the names of values (initializers, "input", or a
    node, for its first output) to a function that rounds them where they
    are made (the gradient passes through), and ``round_gradients`` maps a
    node to a function that rounds the gradient of the node's first input
    as the node's backward computes it.
    """

    def __init__(self, model: onnx.ModelProto, batchnorm_training=True,
                 round_values=None, round_gradients=None):
        super().__init__()
        self.round_values = dict(round_values or {})
        self.round_gradients = dict(round_gradients or {})
        self.graph = model.graph
        self.opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        self.batchnorm_training = batchnorm_training
        self.params = torch.nn.ParameterDict()
        self.names = {}  # ONNX initializer name -> ParameterDict key
        self.constants = {}
        # BatchNormalization's running statistics: state, not parameters.
        self.buffers_by_name = {}
        running = {n.input[i] for n in model.graph.node
                   if n.op_type == "BatchNormalization" for i in (3, 4)}
        for init in model.graph.initializer:
            array = numpy_helper.to_array(init)
            if init.name in running:
                self.buffers_by_name[init.name] = torch.from_numpy(array.copy())
            elif array.dtype == np.float32:
                key = "p%d" % len(self.names)
                self.names[init.name] = key
                self.params[key] = torch.nn.Parameter(torch.from_numpy(array.copy()))
            else:
                self.constants[init.name] = torch.from_numpy(array.copy())
        known = set(self.names) | set(self.constants)
        self.input_name = next(i.name for i in model.graph.input if i.name not in known)

    def parameter(self, onnx_name):
        return self.params[self.names[onnx_name]]

    def is_parameter(self, onnx_name):
        return onnx_name in self.names

    def state(self, onnx_name):
        """The current value of a parameter or of a running statistic."""
        if onnx_name in self.buffers_by_name:
            return self.buffers_by_name[onnx_name]
        return self.parameter(onnx_name).detach()

    def forward(self, x, logits=False):
        """The graph's output; with ``logits``, a final Softmax's input."""
        values = dict(self.constants)
        values.update(self.buffers_by_name)
        values.update({name: self._rounded(name, self.params[key])
                       for name, key in self.names.items()})
        values[self.input_name] = self._rounded("input", x)
        output = self.graph.output[0].name
        for node in self.graph.node:
            ins = [values[name] if name else None for name in node.input]
            if logits and node.op_type == "Softmax" and node.output[0] == output:
                return ins[0]
            if node.name in self.round_gradients:
                ins[0] = _RoundGradient.apply(ins[0], self.round_gradients[node.name])
            values[node.output[0]] = self._rounded(node.name, self._run(node, ins, _attrs(node)))
        return values[output]

    def _rounded(self, name, value):
        fn = self.round_values.get(name)
        return value if fn is None else _rounded_value(value, fn)

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
        if op == "Conv":
            return self._conv(ins, attrs)
        if op in ("MaxPool", "AveragePool"):
            return self._pool(op, ins[0], attrs)
        if op == "BatchNormalization":
            # ONNX's momentum weighs the old value; PyTorch's the new one.
            return torch.nn.functional.batch_norm(
                ins[0], ins[3], ins[4], ins[1], ins[2], training=self.batchnorm_training,
                momentum=1.0 - attrs.get("momentum", 0.9), eps=attrs.get("epsilon", 1e-5))
        if op == "GlobalAveragePool":
            return ins[0].mean(dim=(2, 3), keepdim=True)
        if op == "Shape":
            return torch.tensor(ins[0].shape[attrs.get("start", 0):attrs.get("end", None)])
        if op == "Gather":
            return torch.index_select(ins[0], attrs.get("axis", 0), ins[1].reshape(-1)).reshape(
                ins[1].shape + ins[0].shape[1:])
        if op in ("Unsqueeze", "Squeeze"):
            axes = ins[1].tolist() if len(ins) > 1 else attrs.get("axes", [])
            if op == "Unsqueeze":
                x = ins[0]
                for axis in sorted(a % (x.dim() + len(axes)) for a in axes):
                    x = x.unsqueeze(axis)
                return x
            dims = [a % ins[0].dim() for a in axes] or [
                d for d, n in enumerate(ins[0].shape) if n == 1]
            return ins[0].reshape([n for d, n in enumerate(ins[0].shape) if d not in dims])
        if op == "LRN":
            return torch.nn.functional.local_response_norm(
                ins[0], attrs["size"], alpha=attrs.get("alpha", 1e-4),
                beta=attrs.get("beta", 0.75), k=attrs.get("bias", 1.0))
        if op == "Pad":
            pads = ins[1].tolist() if len(ins) > 1 else attrs["pads"]
            value = ins[2].item() if len(ins) > 2 and ins[2] is not None else attrs.get("value", 0.0)
            rank = ins[0].dim()
            flat = []
            for d in reversed(range(rank)):
                flat += [pads[d], pads[d + rank]]
            return torch.nn.functional.pad(ins[0], flat, value=value)
        if op == "Transpose":
            perm = attrs.get("perm", list(reversed(range(ins[0].dim()))))
            return ins[0].permute(*perm)
        if op == "Concat":
            return torch.cat(ins, dim=attrs.get("axis", 0))
        if op == "Clip":
            lo = ins[1].item() if len(ins) > 1 and ins[1] is not None else attrs.get("min")
            hi = ins[2].item() if len(ins) > 2 and ins[2] is not None else attrs.get("max")
            return torch.clamp(ins[0], min=lo, max=hi)
        if op == "Sum":
            total = ins[0]
            for other in ins[1:]:
                total = total + other
            return total
        if op == "ReduceMean":
            axes = attrs.get("axes", list(range(ins[0].dim())))
            return ins[0].mean(dim=axes, keepdim=bool(attrs.get("keepdims", 1)))
        if op == "LogSoftmax":
            return torch.log_softmax(ins[0], dim=attrs.get("axis", -1 if self.opset >= 13 else 1))
        if op == "Constant":
            return torch.from_numpy(numpy_helper.to_array(attrs["value"]).copy())
        raise NotImplementedError(op)


    @staticmethod
    def _pads(x, kernel, attrs):
        """ONNX pads [top, left, bottom, right], auto_pad resolved."""
        strides = attrs.get("strides", [1, 1])
        dilations = attrs.get("dilations", [1, 1])
        auto_pad = attrs.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        if auto_pad == "VALID":
            return [0, 0, 0, 0]
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0] * 4
            for i in range(2):
                size = x.shape[2 + i]
                out = -(-size // strides[i])
                total = max((out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - size, 0)
                small, large = total // 2, total - total // 2
                pads[i], pads[i + 2] = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
            return pads
        return list(attrs.get("pads", [0, 0, 0, 0]))

    def _conv(self, ins, attrs):
        x, w = ins[0], ins[1]
        bias = ins[2] if len(ins) > 2 else None
        t, l, b, r = self._pads(x, w.shape[2:], attrs)
        x = torch.nn.functional.pad(x, (l, r, t, b))
        return torch.nn.functional.conv2d(x, w, bias, stride=attrs.get("strides", [1, 1]),
                                          dilation=attrs.get("dilations", [1, 1]),
                                          groups=attrs.get("group", 1))

    def _pool(self, op, x, attrs):
        kernel = attrs["kernel_shape"]
        strides = attrs.get("strides", [1, 1])
        t, l, b, r = self._pads(x, kernel, attrs)
        F = torch.nn.functional
        if op == "MaxPool":
            return F.max_pool2d(F.pad(x, (l, r, t, b), value=-float("inf")), kernel, strides)
        if attrs.get("count_include_pad", 0):
            return F.avg_pool2d(F.pad(x, (l, r, t, b)), kernel, strides)
        if (t, l) != (b, r):
            raise NotImplementedError("asymmetric pads without count_include_pad")
        return F.avg_pool2d(x, kernel, strides, padding=(t, l), count_include_pad=False)


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
