"""Shared helpers for dlc's end-to-end tests: compile models, run trainers."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("DLC_BUILD_DIR", ROOT / "build"))
DLC = BUILD / "bin" / "dlc"
FASHION_MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
sys.path.insert(0, str(ROOT / "python"))


class Result:
    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        lines = [l for l in proc.stdout.splitlines() if l.startswith('{"')]
        self.json = json.loads(lines[-1]) if lines else None

    def __repr__(self):
        return "exit %d\nstdout:\n%s\nstderr:\n%s" % (self.returncode, self.stdout, self.stderr)


def run(args, timeout=600, **kwargs):
    return Result(subprocess.run([str(a) for a in args], capture_output=True,
                                 text=True, timeout=timeout, **kwargs))


def compile_model(model_path, output, *flags):
    result = run([DLC, model_path, "-o", output, *flags])
    assert result.returncode == 0, result
    return output


def train(exe, *args, ranks=1, env=None):
    cmd = [exe, *args]
    if ranks > 1:
        cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", ranks] + cmd
    return run(cmd, env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                             **(env or {})))


def save_npy_dataset(directory, x, y, prefix="train"):
    xp = directory / (prefix + "_x.npy")
    yp = directory / (prefix + "_y.npy")
    np.save(xp, x)
    np.save(yp, y)
    return xp, yp


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


@pytest.fixture(scope="session")
def mpi_trainers(tmp_path_factory):
    """The bundled MLP for data-parallel tests: batches 16 and 32 (each
    --overlap: next-forward, backward, backward-late and none)
    for four and two ranks, batch 64 for one."""
    workdir = tmp_path_factory.mktemp("mpi")
    mlp = ROOT / "models" / "mlp.onnx"
    common = ["--lr", 0.05, "--momentum", 0.9]
    trainers = {"b64": compile_model(mlp, workdir / "b64", "--batch", 64, *common)}
    for batch in (16, 32):
        for overlap in ("next-forward", "backward", "backward-late", "none"):
            name = "b%d%s" % (batch, "" if overlap == "next-forward" else "-" + overlap)
            trainers[name] = compile_model(mlp, workdir / name, "--batch", batch,
                                           "--overlap=" + overlap, *common)
    return trainers
