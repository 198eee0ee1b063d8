"""Exports a ReLU MLP (PyTorch nn.Linear layers) to ONNX.

Usage: export_mlp.py OUT.onnx [--sizes 784,512,256,10] [--seed 0]
       [--opset 13] [--softmax] [--batch-dim symbolic|fixed]
"""
import argparse

import torch


class MLP(torch.nn.Module):
    """Flatten, then Linear layers fc1..fcN with ReLU between them."""

    def __init__(self, sizes, softmax=False):
        super().__init__()
        self.depth = len(sizes) - 1
        for i in range(self.depth):
            setattr(self, "fc%d" % (i + 1), torch.nn.Linear(sizes[i], sizes[i + 1]))
        self.softmax = softmax

    def forward(self, x):
        x = torch.flatten(x, 1)
        for i in range(self.depth):
            x = getattr(self, "fc%d" % (i + 1))(x)
            if i < self.depth - 1:
                x = torch.relu(x)
        return torch.softmax(x, dim=1) if self.softmax else x


def build_mlp(sizes, softmax=False):
    return MLP(sizes, softmax)


def export(model, path, input_shape, opset, symbolic_batch=True):
    model.eval()
    dummy = torch.zeros(*input_shape)
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if symbolic_batch else None
    torch.onnx.export(model, dummy, path, input_names=["input"],
                      output_names=["output"], opset_version=opset,
                      dynamic_axes=axes)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output")
    parser.add_argument("--sizes", default="784,512,256,10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--opset", type=int, default=13)
    parser.add_argument("--softmax", action="store_true")
    parser.add_argument("--image", action="store_true",
                        help="take 1x28x28 images (a Flatten node) instead of vectors")
    parser.add_argument("--batch-dim", choices=["symbolic", "fixed"], default="symbolic")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    sizes = [int(s) for s in args.sizes.split(",")]
    model = build_mlp(sizes, args.softmax)
    shape = (1, 1, 28, 28) if args.image else (1, sizes[0])
    export(model, args.output, shape, args.opset, args.batch_dim == "symbolic")


if __name__ == "__main__":
    main()
