"""`./trainer --trace FILE.json`: a Chrome trace per rank of every step,
kernel call, gradient average in flight and wait for one, and
dlc_tools.trace_report's reading of it. The MLP (three layers: six
gradients a step) on two ranks, its averages held to an emulated slow link
so that they are in flight long enough to see."""
import json
import os
import subprocess
import sys

from conftest import FASHION_MNIST, ROOT, compile_model, train
from dlc_tools.export_cnn import export_fashion_cnn

STEPS = 4


def spans(path, category, name=None):
    events = json.loads(path.read_text())["traceEvents"]
    return [e for e in events if e.get("ph") == "X" and e["cat"] == category
            and name in (None, e["name"])]


def test_one_trace_per_rank_with_steps_kernels_averages_and_waits(mpi_trainers, workdir):
    trace = workdir / "run.json"
    result = train(mpi_trainers["b32"], "--data", FASHION_MNIST, "--steps", STEPS,
                   "--log-every", 0, "--trace", trace, ranks=2,
                   env={"DLC_COMM_EMULATE_LINK": "2000:1"})
    assert result.returncode == 0, result
    paths = [workdir / ("run.rank%d.json" % rank) for rank in range(2)]
    for path in paths:
        # The link the start-up ping-pong measured, and the sending order.
        metadata = json.loads(path.read_text())["otherData"]
        assert metadata["link_alpha_us"] > 0 and metadata["link_gbit"] > 0
        assert metadata["comm_priority_order"] == 0
        steps = spans(path, "step", "step")
        assert len(steps) == STEPS
        assert len(spans(path, "step", "evaluate")) == 1
        kernels = spans(path, "kernel")
        assert {"gemm", "softmaxCrossEntropy", "sgdUpdate"} <= {k["name"] for k in kernels}
        # Each kernel call lies within a step or the evaluation.
        assert all(any(s["ts"] <= k["ts"] and k["ts"] + k["dur"] <= s["ts"] + s["dur"]
                       for s in spans(path, "step")) for k in kernels)
        # Two averages a step: fc1's weight gradient, and a bucket of the
        # other five gradients.
        averages = spans(path, "comm")
        assert len(averages) == len(spans(path, "wait")) == 2 * STEPS
        # The emulated link holds each average 2 ms at least.
        assert min(a["dur"] for a in averages) >= 2000
    report = subprocess.run([sys.executable, "-m", "dlc_tools.trace_report", *map(str, paths),
                             "--svg", str(workdir / "steps.svg")],
                            capture_output=True, text=True, cwd=ROOT / "python",
                            env=dict(os.environ, PYTHONPATH=str(ROOT / "python")))
    assert report.returncode == 0, report.stderr
    rows = [line.split("|") for line in report.stdout.splitlines()[2:]]
    assert len(rows) == 2
    for row in rows:
        step, compute, communication, exposed = map(float, row[3:7])
        assert 0 < compute < step and 0 < exposed <= communication <= step
    assert (workdir / "steps.svg").read_text().startswith("<svg")


def test_one_rank_traces_to_the_file_given(workdir, mpi_trainers):
    trace = workdir / "one.json"
    result = train(mpi_trainers["b64"], "--data", FASHION_MNIST, "--steps", 2,
                   "--log-every", 0, "--trace", trace)
    assert result.returncode == 0, result
    assert len(spans(trace, "step", "step")) == 2 and spans(trace, "kernel")
    assert spans(trace, "comm") == []


def test_the_average_the_next_forward_needs_first_is_sent_first(workdir):
    """DLC_COMM_ORDER=priority: the LeNet-style CNN pipelined across steps,
    one average per gradient (--comm-alpha 0: no buckets), over an emulated
    link of 0.05 Gbit/s in 4 KiB chunks. Backward makes fc1's weight
    gradient (784 KiB) before conv1's (1.6 KB), but the next forward needs
    conv1's first: it goes ahead of fc1's chunks still waiting to be sent,
    and arrives long before them, in every step."""
    exe = compile_model(export_fashion_cnn(workdir / "cnn.onnx"), workdir / "cnn",
                        "--overlap=next-forward", "--comm-alpha", 0, "--batch", 16)
    trace = workdir / "cnn.json"
    result = train(exe, "--data", FASHION_MNIST, "--steps", 3, "--log-every", 0,
                   "--trace", trace, ranks=2,
                   env={"DLC_COMM_EMULATE_LINK": "0:0.05", "DLC_COMM_CHUNK_BYTES": "4096",
                        "DLC_COMM_ORDER": "priority"})
    assert result.returncode == 0, result
    assert json.loads((workdir / "cnn.rank0.json").read_text())["otherData"][
        "comm_priority_order"] == 1
    averages = sorted(spans(workdir / "cnn.rank0.json", "comm"), key=lambda a: a["args"]["id"])
    fc1 = [a for a in averages if a["args"]["bytes"] == 128 * 32 * 7 * 7 * 4]
    conv1 = [a for a in averages if a["args"]["bytes"] == 16 * 5 * 5 * 4]
    assert len(fc1) == len(conv1) == 3
    for late, first in zip(fc1, conv1):
        assert late["args"]["id"] < first["args"]["id"]
        # 784 KiB take 128 ms on this link, longer than the backward pass
        # between the two starts even on a loaded machine: conv1's would
        # arrive after them if the link carried them in the order they
        # started.
        assert first["ts"] + first["dur"] + 0.030e6 < late["ts"] + late["dur"]
