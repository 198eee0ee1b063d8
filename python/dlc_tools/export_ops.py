"""Exports a small network made of the ops the CNNs of the benchmarks do not
use (Transpose, Concat and the slicing of its gradient, Clip, an N-D MatMul
broadcast over the batch, LogSoftmax) on 3 x 8 x 8 inputs, 10 classes: the
GPU check's test of those CUDA kernels against PyTorch.

Usage: export_ops.py OUT.onnx [--seed 0]
"""
import argparse

import torch
import torch.nn.functional as F


class OpsNetwork(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.w = torch.nn.Parameter(torch.randn(4, 8, 8) * 0.3)
        self.fc = torch.nn.Linear(16 * 64 + 4 * 64, 10)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        y = torch.clamp(torch.cat([y, y.transpose(2, 3)], dim=1), -0.5, 0.5)
        z = torch.matmul(self.conv2(x), self.w)
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
