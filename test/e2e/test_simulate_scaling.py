"""dlc_tools.simulate_scaling on a trace written here, whose replay can be
worked out by hand: two kernels of 10 ms, an average of 1 MB started after
the first and waited for after the second, then an update of 1 ms."""
import json

import pytest

from dlc_tools import simulate_scaling as sim

MB = 1 << 20


def write_trace(path):
    events = [
        {"name": "step", "cat": "step", "ph": "X", "ts": 0, "dur": 30000, "pid": 0, "tid": 0},
        {"name": "k1", "cat": "kernel", "ph": "X", "ts": 1000, "dur": 10000, "pid": 0, "tid": 0},
        {"name": "allreduce", "cat": "comm", "ph": "X", "ts": 11000, "dur": 15000, "pid": 0,
         "tid": 1, "args": {"id": 0, "bytes": MB}},
        {"name": "k2", "cat": "kernel", "ph": "X", "ts": 11500, "dur": 10000, "pid": 0,
         "tid": 0},
        {"name": "wait", "cat": "wait", "ph": "X", "ts": 21500, "dur": 4500, "pid": 0, "tid": 0,
         "args": {"id": 0}},
        {"name": "sgd", "cat": "kernel", "ph": "X", "ts": 26000, "dur": 1000, "pid": 0,
         "tid": 0},
    ]
    path.write_text(json.dumps({"traceEvents": events}))


def test_replay_overlaps_the_average_with_the_second_kernel(tmp_path):
    trace = tmp_path / "t.json"
    write_trace(trace)
    # Host time outside kernels and waits: 30 - 21 - 4.5 = 4.5 ms.
    # An average of 5 ms ends during k2: nothing waited, 21 + 4.5 ms.
    step, alone = sim.predict(trace, 0, "link", 2, 0.0, MB / 0.005)
    assert step == pytest.approx(0.0255) and alone == pytest.approx(0.0255)
    # One of 25 ms ends 15 ms after k2: 10 + 25 + 1 + 4.5 ms.
    step, _ = sim.predict(trace, 0, "link", 2, 0.0, MB / 0.025)
    assert step == pytest.approx(0.0405)


def test_cost_models():
    alpha, beta = 1e-5, 1e9
    assert sim.cost("link", MB, 64, alpha, beta) == pytest.approx(alpha + MB / beta)
    assert sim.cost("ring", MB, 8, alpha, beta) == pytest.approx(14 * alpha + 1.75 * MB / beta)
    assert sim.cost("tree", MB, 8, alpha, beta) == pytest.approx(6 * (alpha + MB / beta))
    assert sim.cost("ring", MB, 1, alpha, beta) == 0.0
    # 64 ranks in nodes of 8: a ring of 8 on the node's link, one of 8 nodes
    # on an eighth of the bytes, the node ring again.
    node = sim.cost("ring", MB, 8, 1e-6, 3e11)
    assert sim.cost("hierarchical", MB, 64, alpha, beta, node_size=8, node_alpha=1e-6,
                    node_beta=3e11) == pytest.approx(2 * node + sim.cost("ring", MB / 8, 8,
                                                                         alpha, beta))


def test_a_trace_without_the_step_asked_for_is_refused(tmp_path):
    trace = tmp_path / "t.json"
    write_trace(trace)
    with pytest.raises(ValueError, match="no step 3"):
        sim.predict(trace, 3, "ring", 8, 1e-5, 1e9)
