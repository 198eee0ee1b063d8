#!/usr/bin/env bash
# Creates .venv (on Debian's Python, seeing its system packages) with the
# pinned PyPI packages the benchmarks need: onnxruntime-training.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -r bench/requirements.txt
.venv/bin/python -c "import onnxruntime.training; print('onnxruntime-training', \
__import__('onnxruntime').__version__, 'ready in .venv')" 2>/dev/null
