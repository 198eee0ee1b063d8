"""The trainer allocates its arena once and nothing large per step: a
preloaded counter of heap allocations of 1 MiB or more finds as many in a
10-step run as in a 1-step run (so steps 2-10 make none). The final JSON line
reports the arena's size, the peak resident memory, the steady step time and
the library workspace the compiler did not plan."""
import os
import subprocess

import pytest

import models
from conftest import FASHION_MNIST, ROOT, compile_model, run
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


def test_convolution_layout_copies_live_in_the_arena(workdir):
    """oneDNN's blocked-layout copies of a convolution's tensors go to the
    scratch the compiler planned in the arena: what the runtime workspace
    still holds (oneDNN's scratchpads) is far smaller than one copy of the
    first convolution's output (128 x 16 x 28 x 28 floats, 6.4 MB)."""
    exe = compile_model(export_fashion_cnn(workdir / "cnn.onnx"), workdir / "t",
                        "--batch", 128)
    result = run([exe, "--data", FASHION_MNIST, "--steps", 2, "--log-every", 0])
    assert result.returncode == 0, result
    assert result.json["library_workspace_bytes"] < 2 << 20, result.json
