"""Gradient bytes on the wire per step: ResNet-18 (torchvision structure,
32 x 32 x 3, 10 classes, batch 32 per rank, SGD with momentum) on two ranks
under mpirun, compiled in fp32, with --precision=bf16 and with
--precision=auto (calibrated on the first steps); the bytes of every
gradient average of one step after calibration, from rank 0's --trace, and
the formats the weight gradients had then.

    /usr/bin/python3 bench/precision/wire_bytes.py [--write docs/benchmarks.md]
"""
import argparse
import collections
import json
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from report import compile_model, overlap_trainers, publish, section_head  # noqa: E402

BATCH, CALIBRATION, STEPS = 32, 3, 5


def bytes_per_step(exe, x, y, tmp, *flags):
    """The bytes of the averages started in the last step, from rank 0's
    trace (a step redone after an overflow is traced as one more step)."""
    trace = tmp / "trace.json"
    subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", str(exe),
                    "--train-x", str(x), "--train-y", str(y), "--steps", str(STEPS),
                    "--log-every", "0", "--threads", "1", "--trace", str(trace), *flags],
                   check=True, capture_output=True, text=True)
    events = json.loads((tmp / "trace.rank0.json").read_text())["traceEvents"]
    last = max((e for e in events if e.get("name") == "step"), key=lambda e: e["ts"])
    return sum(e["args"]["bytes"] for e in events if e.get("name") == "allreduce" and
               last["ts"] <= e["ts"] <= last["ts"] + last["dur"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        exes, x, y = overlap_trainers(tmp, "resnet18", 32, 10, BATCH, 2 * BATCH * STEPS,
                                      ["backward"])
        fp32 = bytes_per_step(exes["backward"], x, y, tmp)
        rows.append(("fp32", fp32, ""))
        for flag in ("--precision=bf16", "--precision=auto"):
            exe = compile_model(tmp / "resnet18.onnx", tmp / ("resnet18" + flag.split("=")[1]),
                                BATCH, "--overlap=backward", flag)
            plan = tmp / "plan.json"
            extra = ("--calibration-steps", str(CALIBRATION)) if flag.endswith("auto") else ()
            sent = bytes_per_step(exe, x, y, tmp, "--precision-plan-out", plan, *extra)
            census = collections.Counter(t["format"] for t in json.loads(plan.read_text())
                                         ["tensors"] if t["kind"] == "weight_gradient")
            rows.append((flag, sent, ", ".join("%d %s" % (n, f)
                                               for f, n in census.most_common())))
            print(flag, sent, fp32 / sent, flush=True)
    lines = section_head("Precision: gradient bytes on the wire (CPU, 2 ranks)",
                         "bench/precision/wire_bytes.py")
    lines += [
             "- ResNet-18 (torchvision structure), 32x32x3, 10 classes, batch %d per rank, "
             "SGD with momentum, `--overlap=backward`, 2 ranks under mpirun on one machine, "
             "%d steps (auto: `--calibration-steps %d`); the bytes of the last step's "
             "gradient averages in rank 0's `--trace`." % (BATCH, STEPS, CALIBRATION), "",
             "| trainer | bytes per step | fp32's / these | weight gradients' formats |",
             "|---|---:|---:|---|"]
    for name, sent, formats in rows:
        lines.append("| %s | %d | %.2f | %s |" % (name, sent, rows[0][1] / sent, formats))
    publish("\n".join(lines) + "\n", args.write)


if __name__ == "__main__":
    main()
