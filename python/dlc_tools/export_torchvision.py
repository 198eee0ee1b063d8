"""Exports a torchvision model (random weights, nothing downloaded) to ONNX in
training form, so BatchNormalization keeps its batch-statistics semantics.

Usage: export_torchvision.py MODEL OUT.onnx [--size 32] [--batch 2]
                             [--classes 10] [--seed 0] [--opset 15]
MODEL: alexnet, vgg16, resnet18, resnet50. AlexNet and VGG-16 need inputs
of 224 or so: their adaptive average pooling must divide the feature map.
"""
import argparse

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

MODELS = {
    "alexnet": torchvision.models.alexnet,
    "vgg16": torchvision.models.vgg16,
    "resnet18": torchvision.models.resnet18,
    "resnet50": torchvision.models.resnet50,
}


def build(name, classes=10, seed=0):
    torch.manual_seed(seed)
    return MODELS[name](num_classes=classes)


def export(model, path, size, batch, opset=15):
    model.train()
    torch.onnx.export(model, torch.zeros(batch, 3, size, size), str(path),
                      input_names=["input"], output_names=["logits"], opset_version=opset,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def load_onnx_weights(model, path):
    """Loads the exported initializers back into `model` (same names)."""
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
               for t in onnx.load(str(path)).graph.initializer}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError("weights do not match: missing %s, unexpected %s" % (missing, unexpected))
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("output")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--opset", type=int, default=15)
    args = parser.parse_args()
    export(build(args.model, args.classes, args.seed), args.output, args.size, args.batch,
           args.opset)


if __name__ == "__main__":
    main()
