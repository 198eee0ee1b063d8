"""Exports the LeNet-style Fashion-MNIST CNN to ONNX: conv-relu-maxpool twice
(16 and 32 channels, 5x5, padding 2), then fc-relu-fc, on 1 x 28 x 28 images.

Usage: export_cnn.py OUT.onnx [--seed 0] [--opset 13]
"""
import argparse

import torch

from dlc_tools.export_mlp import export


def build_fashion_cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 7 * 7, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


def export_fashion_cnn(path, seed=0, opset=13):
    torch.manual_seed(seed)
    export(build_fashion_cnn(), str(path), (1, 1, 28, 28), opset)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args()
    export_fashion_cnn(args.output, args.seed, args.opset)


if __name__ == "__main__":
    main()
