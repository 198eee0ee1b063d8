"""The trainer's --init FILE.onnx and dlc's --external-weights: a trainer
starts from another model's initializers exactly as if it had been compiled
from that model; one compiled without its weights is small, refuses to
train without --init, and trains as the embedded one does with it; a file
that does not fit the model is refused, naming the initializer."""
import pytest

from conftest import DLC, FASHION_MNIST, ROOT, compile_model, run, train
from dlc_tools.export_mlp import build_mlp, export

import torch

MLP = ROOT / "models" / "mlp.onnx"
FLAGS = ["--batch", 64, "--lr", 0.05, "--momentum", 0.9]


def mlp(path, seed, sizes=(784, 512, 256, 10)):
    torch.manual_seed(seed)
    export(build_mlp(list(sizes), False), str(path), (1, sizes[0]), 13)
    return path


def losses(exe, workdir, label, *flags):
    log = workdir / (label + ".log")
    result = train(exe, "--data", FASHION_MNIST, "--steps", 20, "--log-every", 0,
                   "--loss-log", log, *flags)
    assert result.returncode == 0, result
    return log.read_text()


def test_external_weights_train_as_embedded_ones(workdir):
    embedded = compile_model(MLP, workdir / "embedded", *FLAGS)
    external = compile_model(MLP, workdir / "external", *FLAGS, "--external-weights")
    weights = (784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10) * 4
    assert embedded.stat().st_size - external.stat().st_size >= 0.95 * weights

    refused = train(external, "--data", FASHION_MNIST, "--steps", 1)
    assert refused.returncode == 1, refused
    assert "compiled with --external-weights" in refused.stderr
    assert "--init FILE.onnx" in refused.stderr

    assert losses(external, workdir, "external", "--init", MLP) == \
        losses(embedded, workdir, "embedded")


def test_init_starts_from_another_models_weights(workdir):
    """A trainer compiled from seed 0's model, started from seed 1's, trains
    as the trainer compiled from seed 1's model."""
    seed0, seed1 = mlp(workdir / "seed0.onnx", 0), mlp(workdir / "seed1.onnx", 1)
    from0 = compile_model(seed0, workdir / "from0", *FLAGS)
    from1 = compile_model(seed1, workdir / "from1", *FLAGS)
    started = losses(from0, workdir, "init1", "--init", seed1)
    assert started == losses(from1, workdir, "from1")
    assert started != losses(from0, workdir, "from0")


@pytest.mark.parametrize("case", ["missing", "shape", "not-onnx", "absent"])
def test_init_that_does_not_fit_is_refused(workdir, case):
    exe = compile_model(MLP, workdir / "trainer", *FLAGS)
    if case == "missing":
        # The CNN's initializers have other names.
        from dlc_tools.export_cnn import export_fashion_cnn
        other = export_fashion_cnn(workdir / "cnn.onnx")
        expected = "has no initializer 'fc1.weight'"
    elif case == "shape":
        other = mlp(workdir / "wide.onnx", 0, sizes=(784, 300, 256, 10))
        expected = "has shape [300x784]; the model has [512x784]"
    elif case == "not-onnx":
        other = workdir / "junk.onnx"
        other.write_bytes(b"\xff\xfe not protobuf")
        expected = "is not an ONNX model"
    else:
        other = workdir / "nowhere.onnx"
        expected = "cannot open"
    result = train(exe, "--data", FASHION_MNIST, "--steps", 1, "--init", other)
    assert result.returncode == 1, result
    assert "--init" in result.stderr and expected in result.stderr, result
    assert str(other) in result.stderr


def test_both_flags_are_in_the_help(workdir):
    assert "--external-weights" in run([DLC, "--help"]).stdout
    exe = compile_model(MLP, workdir / "trainer", *FLAGS)
    assert "--init FILE.onnx" in run([exe, "--help"]).stdout


def test_graph_constants_keep_their_compiled_values(workdir):
    """--init reads trained state only from the file: a Dropout's ratio,
    which the importer keeps as a variable named after its Constant node,
    stays compiled in, even with --external-weights. The file here holds the
    state_dict alone, as PyTorch code writes it (the GPU check does)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Flatten(), torch.nn.Dropout(0.3),
                                torch.nn.Linear(4 * 8 * 8, 10)).train()
    path = workdir / "drop.onnx"
    torch.onnx.export(model, torch.zeros(2, 3, 8, 8), str(path), input_names=["input"],
                      output_names=["logits"], opset_version=15,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    state = workdir / "state.onnx"
    onnx.save(helper.make_model(helper.make_graph(
        [], "state", [], [], initializer=[numpy_helper.from_array(v.numpy(), k)
                                          for k, v in model.state_dict().items()])), str(state))
    rng = np.random.default_rng(0)
    x, y = workdir / "x.npy", workdir / "y.npy"
    np.save(x, rng.standard_normal((8, 3, 8, 8)).astype(np.float32))
    np.save(y, rng.integers(0, 10, 8))
    runs = []
    for label, flags, init in [("embedded", (), ()), ("external", ("--external-weights",),
                                                      ("--init", state))]:
        exe = compile_model(path, workdir / label, "--batch", 4, *flags)
        result = train(exe, "--train-x", x, "--train-y", y, "--steps", 4, "--no-shuffle",
                       "--log-every", 0, "--loss-log", workdir / (label + ".log"), *init)
        assert result.returncode == 0, result
        runs.append((workdir / (label + ".log")).read_text())
    assert runs[0] == runs[1]
