"""dlc_tools.simulate_scaling on a trace written here, whose replay can be
worked out by hand: two kernels of 10 ms, an average of 1 MB started after
the first and waited for after the second, then an update of 1 ms."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from dlc_tools import simulate_scaling as sim

MB = 1 << 20


def span(name, category, ts, dur, **args):
    """A trace event as the trainer writes one (microseconds)."""
    event = {"name": name, "cat": category, "ph": "X", "ts": ts, "dur": dur, "pid": 0,
             "tid": 1 if category == "comm" else 0}
    if args:
        event["args"] = args
    return event


def write_trace(path):
    events = [span("step", "step", 0, 30000), span("k1", "kernel", 1000, 10000),
              span("allreduce", "comm", 11000, 15000, id=0, bytes=MB),
              span("k2", "kernel", 11500, 10000), span("wait", "wait", 21500, 4500, id=0),
              span("sgd", "kernel", 26000, 1000)]
    path.write_text(json.dumps({"traceEvents": events}))


def test_replay_overlaps_the_average_with_the_second_kernel(tmp_path):
    trace = tmp_path / "t.json"
    write_trace(trace)
    # Host time between kernels and waits: 1 ms before k1, 0.5 before k2,
    # 3 at the end. An average of 5 ms ends during k2: nothing waited,
    # 21 + 4.5 ms.
    step, alone = sim.predict(trace, 0, "link", 2, 0.0, MB / 0.005)
    assert step == pytest.approx(0.0255) and alone == pytest.approx(0.0255)
    # One of 25 ms, started at 11 ms, ends 14.5 ms after k2: 1 + 10 + 25 +
    # 1 + 3 ms.
    step, _ = sim.predict(trace, 0, "link", 2, 0.0, MB / 0.025)
    assert step == pytest.approx(0.040)


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


def write_pipelined_trace(path):
    """Two steps of --overlap=next-forward: each starts an average of 1 MB
    after its first kernel of 10 ms, and the second step waits, before its
    first kernel, for the one the first started."""
    def step(t0, start_id, wait_id=None):
        events = [span("step", "step", t0, 22000)]
        if wait_id is not None:
            events.append(span("wait", "wait", t0 + 100, 0, id=wait_id))
        return events + [span("k1", "kernel", t0 + 500, 10000),
                         span("allreduce", "comm", t0 + 10600, 1, id=start_id, bytes=MB),
                         span("k2", "kernel", t0 + 11000, 10000)]
    path.write_text(json.dumps({"otherData": {"link_alpha_us": 50.0, "link_gbit": 8.0,
                                              "comm_priority_order": 0},
                                "traceEvents": step(0, 0) + step(30000, 1, 0)}))


def test_a_pipelined_step_waits_for_its_predecessors_average(tmp_path):
    trace = tmp_path / "t.json"
    write_pipelined_trace(trace)
    # The host's 2 ms a step lie as traced: 0.5 ms before k1, 0.5 before
    # k2, 1 at the end. With an average of 25 ms, step 0's starts at
    # 10.6 ms and is done at 35.6 ms; step 1 begins at 22 ms, waits until
    # then, and runs 21.9 ms more: 35.5 ms.
    step, alone = sim.predict(trace, 1, "link", 2, 0.0, MB / 0.025)
    assert step == pytest.approx(0.0355) and alone == pytest.approx(0.022)
    # One of 5 ms is long done: the kernels and the host alone.
    step, _ = sim.predict(trace, 1, "link", 2, 0.0, MB / 0.005)
    assert step == pytest.approx(0.022)
    # A device twice as fast on the same link waits longer: step 0's
    # average starts at 5.3 ms and is done at 30.3 ms; step 1 begins at
    # 11 ms, waits until then, and runs 10.95 ms more: 30.25 ms.
    step, alone = sim.predict(trace, 1, "link", 2, 0.0, MB / 0.025, speedup=2.0)
    assert step == pytest.approx(0.03025) and alone == pytest.approx(0.011)


def test_the_measured_link_comes_from_the_trace(tmp_path):
    trace = tmp_path / "t.json"
    write_pipelined_trace(trace)
    assert sim.measured_link(trace) == pytest.approx((50e-6, 1e9))
    write_trace(trace)
    with pytest.raises(ValueError, match="no measured link"):
        sim.measured_link(trace)


def test_the_link_serves_averages_in_order_or_all_at_once():
    # Two averages of 10 ms each, the second started 5 ms after the first.
    fifo, fair = sim.Link("fifo"), sim.Link("fair")
    for link in (fifo, fair):
        link.start(0, 0.0, 0.010)
        link.start(1, 0.005, 0.010)
    assert fifo.finished(0) == pytest.approx(0.010)
    assert fifo.finished(1) == pytest.approx(0.020)
    # Shared from 5 ms on: the first has 5 ms left at half speed, then the
    # second its last 5 ms alone.
    assert fair.finished(1) == pytest.approx(0.020)
    assert fair.finished(0) == pytest.approx(0.015)


def test_the_link_serves_the_average_needed_first_first():
    # The same two averages, the second needed first (priority 0).
    link = sim.Link("priority")
    link.start(0, 0.0, 0.010, priority=1)
    link.start(1, 0.005, 0.010, priority=0)
    assert link.finished(1) == pytest.approx(0.015)
    assert link.finished(0) == pytest.approx(0.020)


def simulate(*args):
    return subprocess.run([sys.executable, "-m", "dlc_tools.simulate_scaling", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT / "python",
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "python")))


def test_the_command_line_replays_on_the_measured_link(tmp_path):
    trace = tmp_path / "t.json"
    write_pipelined_trace(trace)
    # The trace's link: 50 us and 8 Gbit/s, so an average of 1 MiB takes
    # 1.1 ms: long done when step 1 needs it; its 22 ms are all compute.
    result = simulate(trace, "--measured-link", "--model", "link", "--ranks", "2",
                      "--steps", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2] == "| 2 | 0.0220 | 0.0220 | 100.0% |"
    # Ten times slower compute: still all compute, ten times as long.
    result = simulate(trace, "--measured-link", "--model", "link", "--ranks", "2",
                      "--steps", "1", "--speedup", "0.1", "--sharing", "fair")
    assert result.stdout.splitlines()[2] == "| 2 | 0.2200 | 0.2200 | 100.0% |"


def test_the_command_line_refuses_what_it_cannot_replay(tmp_path):
    trace = tmp_path / "t.json"
    write_trace(trace)
    result = simulate(trace, "--measured-link")
    assert result.returncode == 1
    assert "records no measured link" in result.stderr
    result = simulate(trace, "--speedup", "0")
    assert result.returncode == 1 and "--speedup must be positive" in result.stderr
    result = simulate(tmp_path / "missing.json")
    assert result.returncode == 1 and "simulate_scaling: error:" in result.stderr


def write_rank_trace(path, kernel_us):
    """One step of one rank: a kernel of `kernel_us`, an average of 1 MB
    started after it, waited for at once, then an update of 1 ms."""
    k = kernel_us
    path.write_text(json.dumps({"traceEvents": [
        span("step", "step", 0, k + 1000), span("k1", "kernel", 0, k),
        span("allreduce", "comm", k, 1, id=0, bytes=MB), span("wait", "wait", k, 0, id=0),
        span("sgd", "kernel", k, 1000)]}))


def test_ranks_replayed_together_wait_for_the_last_to_start(tmp_path):
    fast, slow = tmp_path / "r0.json", tmp_path / "r1.json"
    write_rank_trace(fast, 10000)
    write_rank_trace(slow, 15000)
    # Alone, rank 0's average of 5 ms starts at 10 ms: 10 + 5 + 1 ms.
    step, alone = sim.predict(fast, 0, "link", 2, 0.0, MB / 0.005)
    assert step == pytest.approx(0.016) and alone == pytest.approx(0.011)
    # With rank 1, it starts when rank 1 starts it, at 15 ms: 15 + 5 + 1;
    # one rank's step is the slower one's compute, 16 ms.
    step, alone = sim.predict([fast, slow], 0, "link", 2, 0.0, MB / 0.005)
    assert step == pytest.approx(0.021) and alone == pytest.approx(0.016)
    # Both ranks' steps: the fast one waits as long as the slow one.
    steps = [[sim.load_steps(p)[0][0]] for p in (fast, slow)]
    seconds = sim.replay_ranks(steps, lambda b: b / (MB / 0.005))
    assert seconds == [[pytest.approx(0.021)], [pytest.approx(0.021)]]


def test_ranks_that_name_different_averages_are_refused(tmp_path):
    first, second = tmp_path / "r0.json", tmp_path / "r1.json"
    write_rank_trace(first, 10000)
    second.write_text(first.read_text().replace('"id": 0', '"id": 7'))
    with pytest.raises(ValueError, match="not all of them start"):
        sim.predict([first, second], 0, "link", 2, 0.0, 1e9)


def test_the_command_line_replays_every_ranks_trace_together(tmp_path):
    fast, slow = tmp_path / "r0.json", tmp_path / "r1.json"
    write_rank_trace(fast, 10000)
    write_rank_trace(slow, 15000)
    # 1 MB over 1.6777 Gbit/s (MB / 0.005 s): rank 0's step 21 ms, the
    # slower rank's compute 16.
    result = simulate(fast, slow, "--model", "link", "--gbit", MB * 8 / 0.005 / 1e9,
                      "--alpha-us", "0", "--ranks", "2", "--steps", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2] == "| 2 | 0.0210 | 0.0160 | 76.2% |"


def write_pipelined_rank(path, kernel_us, steps=3):
    """`steps` pipelined steps of one rank: each waits at its start for the
    average its predecessor started, runs a kernel of `kernel_us`, and
    starts an average of 1 MB."""
    events, t = [], 0
    for s in range(steps):
        events.append(span("step", "step", t, kernel_us + 100))
        if s:
            events.append(span("wait", "wait", t, 0, id=s - 1))
        events += [span("k", "kernel", t + 50, kernel_us),
                   span("allreduce", "comm", t + 50 + kernel_us, 1, id=s, bytes=MB)]
        t += kernel_us + 200
    path.write_text(json.dumps({"traceEvents": events}))


def test_pipelined_ranks_step_at_the_slower_ones_pace(tmp_path):
    fast, slow = tmp_path / "r0.json", tmp_path / "r1.json"
    write_pipelined_rank(fast, 10000)
    write_pipelined_rank(slow, 15000)
    # A free link: each step lasts as long as the slower rank's, 15.1 ms
    # (its kernel and host time), though the fast one computes 10.1.
    step, alone = sim.predict([fast, slow], 2, "link", 2, 0.0, 1e15)
    assert step == pytest.approx(0.0151) and alone == pytest.approx(0.0151)
    # An average of 20 ms, started at the slower rank's kernel's end and
    # waited for at the next step's start: 20 ms of waiting, then its
    # kernel and the host's 50 us after the wait: 35.05 ms.
    step, _ = sim.predict([fast, slow], 2, "link", 2, 0.0, MB / 0.020)
    assert step == pytest.approx(0.03505)
