#!/usr/bin/env python3
"""Fuzzing benchmark: at least a million libFuzzer executions of dlc's
importer (and the passes behind it), plus the structured Python mutator, and
the counts written to docs/benchmarks.md.

    bench/fuzz.py --runs 1000000 --models 2000 --write docs/benchmarks.md
"""
import argparse
import datetime
import pathlib
import re
import subprocess
import sys
import time

from report import machine, write_section

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000000)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--write", type=pathlib.Path)
    args = parser.parse_args()

    start = time.time()
    lib = subprocess.run(["bash", str(ROOT / "scripts/fuzz.sh"), "--runs", str(args.runs)],
                         cwd=ROOT, capture_output=True, text=True)
    lib_seconds = time.time() - start
    executed = re.findall(r"stat::number_of_executed_units: (\d+)", lib.stderr)
    executed = int(executed[-1]) if executed else 0
    coverage = re.findall(r"cov: (\d+) ft: (\d+)", lib.stderr)
    print("libFuzzer: exit %d, %d executions, %.0f s" % (lib.returncode, executed, lib_seconds))

    start = time.time()
    py = subprocess.run([sys.executable, str(ROOT / "python/dlc_tools/fuzz_models.py"),
                         "--dlc", str(ROOT / "build/bin/dlc"),
                         "--corpus", str(ROOT / "test/fuzz/corpus"),
                         "--count", str(args.models), "--seed", "1",
                         "--crash-dir", str(ROOT / "build/fuzz-crashes")],
                        cwd=ROOT, capture_output=True, text=True)
    py_seconds = time.time() - start
    print(py.stdout[-2000:])
    crashed = lib.returncode != 0 or py.returncode != 0

    if args.write:
        regressions = len(list((ROOT / "test/fuzz/regressions").iterdir()))
        section = "\n".join([
            "## Fuzzing: the ONNX importer and the passes behind it",
            "",
            "- Command: `bench/fuzz.py --runs %d --models %d --write docs/benchmarks.md`"
            % (args.runs, args.models),
            "- Machine: %s" % machine(),
            "- Date: %s" % datetime.date.today().isoformat(),
            "- libFuzzer (clang 22, `-fsanitize=fuzzer,address,undefined`; "
            "`tools/dlc-import-fuzzer`: raw bytes through the importer as `dlc` and "
            "as `dlc run` import, then the training graph or the inference forms, and the "
            "memory plan), seeded from `test/fuzz/corpus`; the structured "
            "mutator `python/dlc_tools/fuzz_models.py` through `dlc --emit=training`.",
            "",
            "| fuzzer | inputs run | seconds | crashes |",
            "|---|---:|---:|---:|",
            "| libFuzzer, raw bytes | %d | %.0f | %s |"
            % (executed, lib_seconds, "**yes**" if lib.returncode else "0"),
            "| structured mutator, ONNX models | %d | %.0f | %s |"
            % (args.models, py_seconds, "**yes**" if py.returncode else "0"),
            "",
            "Final coverage: %s edges, %s features. Crashes found while the fuzzer "
            "was being brought up were fixed; each input is kept in "
            "`test/fuzz/regressions/` (%d so far), which `scripts/fuzz.sh` replays first "
            "and `test/e2e/test_fuzz.py` runs through `dlc`."
            % (coverage[-1][0] if coverage else "?", coverage[-1][1] if coverage else "?",
               regressions),
        ])
        write_section(args.write, section)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
