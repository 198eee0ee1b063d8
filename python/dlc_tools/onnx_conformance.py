"""Runs ONNX's node conformance tests through `dlc run` and writes a coverage
report.

A test is taken when every op of its model is one dlc imports (`dlc
--print-supported-ops`) and every graph input and output is float32. Each
test data set runs through `dlc run`; outputs are compared with the expected
ones (rtol 1e-3, atol 1e-4). A test passes, is refused (dlc stops with an
`error:` message, exit status 1), gives a wrong answer, or crashes (any
other exit, or generated code the host compiler rejects). Exit status 1
when any test is wrong or crashed.

Usage: onnx_conformance.py [--dlc build/bin/dlc] [--data DIR] [--jobs 2]
                           [--write docs/onnx-coverage.md] [--filter SUBSTR]
"""
import argparse
import collections
import concurrent.futures
import datetime
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path("/usr/share/libonnx-testdata/data/node")


def float32_only(model):
    values = list(model.graph.input) + list(model.graph.output)
    return all(v.type.HasField("tensor_type") and
               v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for v in values)


def select(data, supported, substring):
    """(test directory, op types) of the tests dlc should handle."""
    chosen = []
    for test in sorted(data.iterdir()):
        if substring and substring not in test.name:
            continue
        try:
            model = onnx.load(str(test / "model.onnx"))
        except Exception:
            continue
        ops = sorted({n.op_type for n in model.graph.node})
        if ops and set(ops) <= supported and float32_only(model):
            chosen.append((test, ops))
    return chosen


def run_test(dlc, test):
    """('passed' | 'refused' | 'wrong' | 'crashed', detail)."""
    for data_set in sorted(test.glob("test_data_set_*")):
        inputs = sorted(data_set.glob("input_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        expected = sorted(data_set.glob("output_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        with tempfile.TemporaryDirectory() as out:
            cmd = [str(dlc), "run", str(test / "model.onnx")]
            for path in inputs:
                cmd += ["--input", str(path)]
            cmd += ["--output-dir", out]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if proc.returncode == 1 and "error:" in proc.stderr:
                line = next(l for l in proc.stderr.splitlines() if "error:" in l)
                detail = line.split("error:", 1)[1].strip()
                # dlc's own generated code failing to build is a dlc bug.
                if detail.startswith("host compile failed"):
                    return "crashed", proc.stderr.strip()[-300:]
                return "refused", detail
            if proc.returncode != 0:
                return "crashed", "exit %d: %s" % (proc.returncode, proc.stderr.strip()[-300:])
            for k, path in enumerate(expected):
                want = numpy_helper.to_array(onnx.load_tensor(str(path)))
                got_path = pathlib.Path(out) / ("output_%d.pb" % k)
                if not got_path.exists():
                    return "wrong", "no output_%d.pb" % k
                got = numpy_helper.to_array(onnx.load_tensor(str(got_path)))
                if got.shape != want.shape:
                    return "wrong", "output %d has shape %s, expected %s" % (k, got.shape, want.shape)
                if not np.allclose(got, want, rtol=1e-3, atol=1e-4):
                    return "wrong", "output %d differs by up to %.3g" % (
                        k, float(np.max(np.abs(got - want))))
    return "passed", ""


def report(results, command):
    by_op = collections.defaultdict(collections.Counter)
    reasons = collections.defaultdict(list)
    for (test, ops), (status, detail) in results:
        for op in ops:
            by_op[op][status] += 1
            by_op[op]["tests"] += 1
            if status != "passed":
                reasons[op].append("%s (%s): %s" % (test.name, status, detail))
    totals = collections.Counter(status for _, (status, _) in results)
    lines = ["# ONNX conformance coverage", "",
             "ONNX's node tests (`libonnx-testdata` %s) whose ops dlc imports and whose inputs "
             "and outputs are float32, run through `dlc run` and compared with the expected "
             "outputs (rtol 1e-3, atol 1e-4). A test counts under every op it uses." % "1.12",
             "", "- Command: `%s`" % command,
             "- Date: %s" % datetime.date.today().isoformat(),
             "- Totals: %d tests, %d passed, %d refused, %d wrong, %d crashed" % (
                 len(results), totals["passed"], totals["refused"], totals["wrong"],
                 totals["crashed"]),
             "", "| op | tests | passed | refused | wrong | crashed |",
             "|---|---:|---:|---:|---:|---:|"]
    for op in sorted(by_op):
        c = by_op[op]
        lines.append("| %s | %d | %d | %d | %d | %d |" % (
            op, c["tests"], c["passed"], c["refused"], c["wrong"], c["crashed"]))
    lines += ["", "## Tests not passed, with dlc's message", ""]
    for (test, ops), (status, detail) in results:
        if status != "passed":
            lines.append("- `%s` (%s) %s: %s" % (test.name, ", ".join(ops), status, detail))
    return "\n".join(lines) + "\n", totals


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", default=str(ROOT / "build" / "bin" / "dlc"))
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write")
    parser.add_argument("--filter")
    args = parser.parse_args()
    supported = set(subprocess.run([args.dlc, "--print-supported-ops"], capture_output=True,
                                   text=True, check=True).stdout.split())
    tests = select(pathlib.Path(args.data), supported, args.filter)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(lambda t: run_test(args.dlc, t[0]), tests))
    results = list(zip(tests, outcomes))
    command = "python/dlc_tools/onnx_conformance.py" + (
        " --write %s" % args.write if args.write else "")
    text, totals = report(results, command)
    if args.write:
        pathlib.Path(args.write).write_text(text)
    print("%d tests: %d passed, %d refused, %d wrong, %d crashed" % (
        len(results), totals["passed"], totals["refused"], totals["wrong"], totals["crashed"]))
    for (test, _), (status, detail) in results:
        if status in ("wrong", "crashed"):
            print("%s %s: %s" % (status.upper(), test.name, detail))
    return 1 if totals["wrong"] or totals["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())
