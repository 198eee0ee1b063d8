#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: lit (dialect, passes,
# driver), GoogleTest (runtime kernels), end-to-end (PyTorch references, MPI,
# bad input, fuzzer regressions) and a fixed-time libFuzzer run on the importer
# (DLC_FUZZ_SECONDS, default 60). Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh

echo "== lit"
/usr/lib/llvm-22/bin/lit -sv build/test

echo "== GoogleTest"
ctest --test-dir build --output-on-failure

echo "== end-to-end"
# Debian's interpreter (python3-torch, python3-onnx, pytest), in a venv that
# sees its packages and adds what Debian lacks (test/requirements.txt).
venv=build/test-venv
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r test/requirements.txt
"$venv/bin/python" -m pytest -q -p no:cacheprovider test/e2e

echo "== fuzzing (libFuzzer on the importer, fixed time)"
bash scripts/fuzz.sh --time "${DLC_FUZZ_SECONDS:-60}"
