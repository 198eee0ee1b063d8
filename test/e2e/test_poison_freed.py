"""The memory plan never hands out bytes that are still to be read:
`--debug-poison-freed` overwrites every buffer with NaNs right after its
last use in the chosen schedule (after reordering and in-place reuse), and
each test model then trains to the same bits as without it -- a kernel
reading freed bytes would read NaNs, and the loss and weights would show
them. The models are those compared with PyTorch, and the Fashion-MNIST
CNN."""
import math

import numpy as np
import pytest

from dlc_tools.export_cnn import export_fashion_cnn
from test_training_vs_pytorch import MODELS, dlc_train, make_data

CASES = [(name, builder, kwargs, shape, classes) for name, builder, kwargs, shape, classes
         in MODELS] + [("fashion-cnn", lambda path: export_fashion_cnn(path), {}, (1, 28, 28), 10)]


@pytest.mark.parametrize("name,builder,kwargs,shape,classes", CASES, ids=[c[0] for c in CASES])
def test_poisoned_plan_trains_the_same(tmp_path, name, builder, kwargs, shape, classes):
    model = builder(tmp_path / "model.onnx", **kwargs)
    batch, steps = 8, 4
    x, y = make_data(shape, classes, batch * steps, seed=3)
    runs = {}
    for label, flags in [("plain", ()), ("poisoned", ("--debug-poison-freed",))]:
        workdir = tmp_path / label
        workdir.mkdir()
        runs[label] = dlc_train(workdir, model, x, y, batch, steps, "cross-entropy", 0.05,
                                momentum=0.9, flags=flags)
    (plain, plain_weights), (poisoned, poisoned_weights) = runs["plain"], runs["poisoned"]
    assert math.isfinite(poisoned["last_loss"]), poisoned
    assert poisoned["last_loss"] == plain["last_loss"]
    assert poisoned["train_loss"] == plain["train_loss"]
    assert poisoned_weights.keys() == plain_weights.keys()
    for onnx_name, weights in plain_weights.items():
        assert np.array_equal(poisoned_weights[onnx_name], weights), onnx_name
