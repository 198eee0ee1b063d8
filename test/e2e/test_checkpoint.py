"""Checkpoint and resume: N steps, a checkpoint, a new process that resumes
and runs N more give bit-identical parameters (and running statistics) to
2N uninterrupted steps, on 1 and 2 ranks; signals stop a run cleanly with a
checkpoint; checkpoints of other models or options are refused."""
import os
import signal
import subprocess
import time

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import models
from conftest import compile_model, save_npy_dataset, train
from test_bad_input import assert_clean_failure


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ckpt")
    model = models.torch_bn_cnn(workdir / "bn.onnx")
    exe = compile_model(model, workdir / "trainer", "--batch", 4, "--lr", 0.05,
                        "--momentum", 0.9)
    rng = np.random.default_rng(3)
    x, y = save_npy_dataset(workdir, rng.standard_normal((40, 2, 6, 6)).astype(np.float32),
                            rng.integers(0, 3, 40))
    return workdir, model, exe, ["--train-x", x, "--train-y", y, "--seed", 7, "--log-every", 0]


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def assert_bit_identical(a, b):
    a, b = initializers(a), initializers(b)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].tobytes() == b[name].tobytes(), name


@pytest.mark.parametrize("ranks", [1, 2])
@pytest.mark.parametrize("split", [3, 5], ids=["mid-epoch", "epoch-end"])
def test_resume_is_bit_identical(setup, tmp_path, ranks, split):
    """40 samples, batch 4: 10 steps per epoch on one rank, 5 on two. Run
    2 x `split` steps over two epochs, or stop after `split` and resume."""
    workdir, _, exe, data = setup
    total = 2 * split if ranks == 1 else split + 3
    whole = train(exe, *data, "--epochs", 3, "--steps", total, "--save", tmp_path / "whole.onnx",
                  ranks=ranks)
    assert whole.returncode == 0, whole
    ckpt = tmp_path / "ckpt"
    first = train(exe, *data, "--epochs", 3, "--steps", split, "--checkpoint-dir", ckpt,
                  "--checkpoint-every", split, ranks=ranks)
    assert first.returncode == 0, first
    assert sorted(os.listdir(ckpt)) == ["checkpoint-%010d.dlc" % split]
    second = train(exe, *data, "--epochs", 3, "--steps", total, "--resume", ckpt,
                   "--save", tmp_path / "resumed.onnx", ranks=ranks)
    assert second.returncode == 0, second
    assert "resuming from" in second.stdout
    assert second.json["steps"] == total
    assert second.json["last_loss"] == whole.json["last_loss"]
    assert_bit_identical(tmp_path / "whole.onnx", tmp_path / "resumed.onnx")


def test_keeps_the_newest_checkpoints(setup, tmp_path):
    _, _, exe, data = setup
    result = train(exe, *data, "--steps", 7, "--checkpoint-dir", tmp_path, "--checkpoint-every", 2,
                   "--keep-checkpoints", 2)
    assert result.returncode == 0, result
    assert sorted(os.listdir(tmp_path)) == ["checkpoint-0000000004.dlc",
                                            "checkpoint-0000000006.dlc"]


def test_sigterm_finishes_the_step_and_checkpoints(setup, tmp_path):
    workdir, _, exe, data = setup
    ckpt = tmp_path / "ckpt"
    proc = subprocess.Popen([str(a) for a in [exe, *data, "--epochs", 100000,
                                              "--checkpoint-dir", ckpt]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    assert "stopped by a signal after step" in out
    saved = [f for f in os.listdir(ckpt) if f.endswith(".dlc")]
    assert saved, out
    resumed = train(exe, *data, "--epochs", 100000, "--steps",
                    int(max(saved)[len("checkpoint-"):-4]) + 2, "--resume", ckpt)
    assert resumed.returncode == 0, resumed


def test_sigint_without_checkpoint_dir_exits_nonzero_and_writes_nothing(setup, tmp_path):
    _, _, exe, data = setup
    proc = subprocess.Popen([str(a) for a in [exe, *data, "--epochs", 100000,
                                              "--save", tmp_path / "m.onnx"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "nothing written" in out
    assert not (tmp_path / "m.onnx").exists()


def test_checkpoint_of_another_model_or_options_is_refused(setup, tmp_path):
    workdir, model, exe, data = setup
    ckpt = tmp_path / "ckpt"
    assert train(exe, *data, "--steps", 2, "--checkpoint-dir", ckpt,
                 "--checkpoint-every", 2).returncode == 0
    other = compile_model(model, tmp_path / "other", "--batch", 4, "--lr", 0.05, "--momentum", 0.5)
    assert_clean_failure(train(other, *data, "--resume", ckpt), "different model or different compile options")
    assert_clean_failure(train(exe, *data, "--resume", ckpt, ranks=2), "written by 1 rank(s); this run has 2")
    (ckpt / "checkpoint-0000000002.dlc").write_bytes(
        (ckpt / "checkpoint-0000000002.dlc").read_bytes()[:-9] + b"garbage!!")
    assert_clean_failure(train(exe, *data, "--resume", ckpt), "damaged")
    assert_clean_failure(train(exe, *data, "--resume", tmp_path / "empty"), "no checkpoint")


def test_a_dead_rank_ends_the_job_and_resume_continues(setup, tmp_path):
    """SIGKILL one of two ranks mid-run: the job ends within 30 s with a
    message from the surviving rank, and --resume picks up the last
    checkpoint."""
    _, _, exe, data = setup
    ckpt = tmp_path / "ckpt"
    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", str(exe),
           *[str(a) for a in data], "--epochs", "100000000", "--checkpoint-dir", str(ckpt),
           "--checkpoint-every", "50"]
    job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
    deadline = time.time() + 60
    while not (ckpt.exists() and os.listdir(ckpt)) and time.time() < deadline:
        time.sleep(0.2)
    ranks = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True,
                           text=True).stdout.split()
    assert len(ranks) == 2, ranks
    os.kill(int(ranks[-1]), signal.SIGKILL)
    killed = time.time()
    out, err = job.communicate(timeout=60)
    assert time.time() - killed < 30
    assert job.returncode != 0
    assert "rank 0: " in err, err  # the survivor says what happened
    resumed = train(exe, *data, "--epochs", 100000000, "--steps",
                    int(max(os.listdir(ckpt))[len("checkpoint-"):-4]) + 10, "--resume", ckpt,
                    ranks=2)
    assert resumed.returncode == 0, resumed
    assert "resuming from" in resumed.stdout
