"""The trainer allocates its arena once and nothing large per step: a
preloaded counter of heap allocations of 1 MiB or more finds as many in a
10-step run as in a 1-step run (so steps 2-10 make none). The final JSON line
reports the arena's size, the peak resident memory, the steady step time, the
library workspace the compiler did not plan, none on the compiling machine,
and no device memory on the CPU."""
import os
import subprocess

import numpy as np
import pytest

import models
from conftest import FASHION_MNIST, ROOT, compile_model, run, save_npy_dataset
from dlc_tools.export_cnn import export_fashion_cnn

COUNTER_SOURCE = ROOT / "test" / "e2e" / "support" / "count_allocations.c"


@pytest.fixture(scope="module")
def counter(tmp_path_factory):
    library = tmp_path_factory.mktemp("counter") / "count_allocations.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", str(COUNTER_SOURCE), "-o", str(library),
                    "-ldl"], check=True)
    return library


def large_allocations(exe, counter, tmp_path, steps):
    out = tmp_path / ("count-%d" % steps)
    env = dict(os.environ, LD_PRELOAD=str(counter), DLC_ALLOCATION_COUNT_FILE=str(out),
               OMP_NUM_THREADS="2")
    result = run([exe, "--data", FASHION_MNIST, "--steps", steps, "--log-every", 0], env=env)
    assert result.returncode == 0, result
    return int(out.read_text()), result.json


@pytest.mark.parametrize("name", ["mlp", "fashion-cnn"])
def test_no_large_allocation_after_the_first_step(workdir, counter, name):
    model = ROOT / "models" / "mlp.onnx" if name == "mlp" else \
        export_fashion_cnn(workdir / "cnn.onnx")
    exe = compile_model(model, workdir / "t", "--batch", 128, "--momentum", 0.9)
    one, summary = large_allocations(exe, counter, workdir, 1)
    ten, later = large_allocations(exe, counter, workdir, 10)
    assert one > 0  # the counter sees the data
    assert ten == one, (one, ten)
    assert summary["arena_bytes"] > 1 << 20
    assert summary["peak_rss_bytes"] > summary["arena_bytes"]
    assert summary["step_seconds"] is None  # no step after the first
    assert later["step_seconds"] > 0
    assert later["peak_device_bytes"] is None  # a GPU figure only


def test_every_library_byte_is_planned(workdir):
    """The compiler asks oneDNN how many bytes each convolution, pooling and
    batch-norm call needs besides its operands (layout copies, scratchpad)
    and plans them in the arena: on the machine that compiled it, the
    trainer's own library workspace stays empty. The CNN (convolutions, max
    pooling, 128 x 16 x 28 x 28 activations) and the batch-norm CNN (conv,
    batch norm in two and four dimensions, max pooling) both train with
    none."""
    cnn = compile_model(export_fashion_cnn(workdir / "cnn.onnx"), workdir / "cnn",
                        "--batch", 128)
    result = run([cnn, "--data", FASHION_MNIST, "--steps", 2, "--log-every", 0])
    assert result.returncode == 0, result
    assert result.json["library_workspace_bytes"] == 0, result.json

    bn = compile_model(models.torch_bn_cnn(workdir / "bn.onnx"), workdir / "bn",
                       "--batch", 4)
    rng = np.random.default_rng(3)
    x, y = save_npy_dataset(workdir, rng.standard_normal((16, 2, 6, 6)).astype(np.float32),
                            rng.integers(0, 3, 16))
    result = run([bn, "--train-x", x, "--train-y", y, "--steps", 2, "--log-every", 0])
    assert result.returncode == 0, result
    assert result.json["library_workspace_bytes"] == 0, result.json
