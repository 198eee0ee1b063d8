"""--target=cuda for convolutional networks: the CNNs of the tests and
torchvision's ResNet-18, AlexNet and VGG-16 compile to CUDA executables
(cuDNN convolution and pooling, cuBLAS products, batch norm as arithmetic)
and link here, where there is no GPU; scripts/gpu-check.sh runs them on one.
AlexNet and VGG-16 are compiled with --external-weights (a small program:
their weights come from --init at run time)."""
import os

import pytest

import models
from conftest import DLC, compile_model, run
from dlc_tools import export_torchvision

CASES = {
    "lenet": lambda d: (models.torch_lenet(d / "lenet.onnx"), 8, ()),
    "fashion-cnn": lambda d: (models.torch_fashion_cnn(d / "cnn.onnx"), 64, ()),
    "bn-cnn": lambda d: (models.torch_bn_cnn(d / "bn.onnx"), 4, ()),
    "resnet18": lambda d: (torchvision(d, "resnet18", 64), 4, ()),
    "alexnet": lambda d: (torchvision(d, "alexnet", 224), 2, ("--external-weights",)),
    "vgg16": lambda d: (torchvision(d, "vgg16", 224), 2, ("--external-weights",)),
}


def torchvision(workdir, name, size):
    path = workdir / (name + ".onnx")
    export_torchvision.export(export_torchvision.build(name, 10), path, size, 2)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiles_and_links_for_cuda(workdir, name):
    model, batch, flags = CASES[name](workdir)
    exe = compile_model(model, workdir / "trainer", "--target=cuda", "--batch", batch,
                        "--momentum", 0.9, *flags)
    assert os.access(exe, os.X_OK)
    source = run([DLC, model, "--emit=source", "--target=cuda", "--batch", batch])
    assert source.returncode == 0, source
    assert "conv2d(" in source.stdout and "conv2dBackwardFilter(" in source.stdout
    if flags:
        # The weights stay out: the program is a few megabytes.
        assert exe.stat().st_size < 16 << 20
