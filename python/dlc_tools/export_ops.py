"""Exports a small network made of the ops and forms the CNNs of the
benchmarks do not use (LRN, Transpose, Concat and the slicing of its
gradient, Clip, an N-D MatMul broadcast over the batch, Softmax, Pad, a
convolution padded unevenly, ceil-mode and dilated pooling, LogSoftmax) on
3 x 8 x 8 inputs, 10 classes: the GPU check's test of those CUDA kernels
against PyTorch.

Usage: export_ops.py OUT.onnx [--seed 0]
"""
import argparse

import torch
import torch.nn.functional as F


LRN = dict(size=5, alpha=1e-2, beta=0.75, k=1.5)


class LrnForExport(torch.autograd.Function):
    """PyTorch's local_response_norm exports as the ops it is made of; this
    exports it as the one ONNX LRN node (the same formula and, for an odd
    size, the same window)."""

    @staticmethod
    def forward(ctx, x):
        return F.local_response_norm(x, **LRN)

    @staticmethod
    def symbolic(g, x):
        return g.op("LRN", x, size_i=LRN["size"], alpha_f=LRN["alpha"], beta_f=LRN["beta"],
                    bias_f=LRN["k"])


class PadForExport(torch.autograd.Function):
    """F.pad on the last two dimensions by 1, with 0.25: exported as one Pad
    node with constant pads (PyTorch 1.13 computes them in the graph)."""

    @staticmethod
    def forward(ctx, x):
        return F.pad(x, (1, 1, 1, 1), value=0.25)

    @staticmethod
    def symbolic(g, x):
        pads = g.op("Constant", value_t=torch.tensor([0, 0, 1, 1, 0, 0, 1, 1]))
        value = g.op("Constant", value_t=torch.tensor(0.25))
        return g.op("Pad", x, pads, value, mode_s="constant")


UNEVEN_PADS = (1, 0, 2, 1)  # ONNX order: top, left, bottom, right


class UnevenConvForExport(torch.autograd.Function):
    """A 3 x 3 convolution padded 1 on top, 2 at the bottom and 1 on the
    right: exported as one Conv node with those pads (as SAME_UPPER
    exporters write them); PyTorch pads explicitly."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        return uneven_conv(x, weight, bias)

    @staticmethod
    def symbolic(g, x, weight, bias):
        return g.op("Conv", x, weight, bias, kernel_shape_i=[3, 3], pads_i=list(UNEVEN_PADS),
                    strides_i=[1, 1])


def uneven_conv(x, weight, bias):
    top, left, bottom, right = UNEVEN_PADS
    return F.conv2d(F.pad(x, (left, right, top, bottom)), weight, bias)


class OpsNetwork(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.w = torch.nn.Parameter(torch.randn(4, 8, 8) * 0.3)
        self.conv3 = torch.nn.Conv2d(4, 4, 3)
        self.fc = torch.nn.Linear(16 * 16 + 4 * 6 * 5, 10)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        exporting = torch.onnx.is_in_onnx_export()
        y = LrnForExport.apply(y) if exporting else F.local_response_norm(y, **LRN)
        y = torch.clamp(torch.cat([y, y.transpose(2, 3)], dim=1), -0.5, 0.5)
        y = F.max_pool2d(y, 3, 2, ceil_mode=True)                        # 8 -> 4
        z = torch.matmul(self.conv2(x), self.w)
        z = z * F.softmax(z, dim=3)
        z = PadForExport.apply(z) if exporting else F.pad(z, (1, 1, 1, 1), value=0.25)
        conv3 = (self.conv3.weight, self.conv3.bias)
        z = UnevenConvForExport.apply(z, *conv3) if exporting else uneven_conv(z, *conv3)  # 11 x 9
        z = F.max_pool2d(z, 2, 1, padding=1, dilation=2)                 # 11 x 9
        z = F.avg_pool2d(z, 2, 2, ceil_mode=True, count_include_pad=False)  # 6 x 5
        flat = torch.cat([y.flatten(1), z.flatten(1)], dim=1)
        return F.log_softmax(self.fc(flat), dim=1)


def build_ops_network(seed=0):
    torch.manual_seed(seed)
    return OpsNetwork()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.onnx.export(build_ops_network(args.seed), torch.zeros(2, 3, 8, 8), args.output,
                      input_names=["input"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


if __name__ == "__main__":
    main()
