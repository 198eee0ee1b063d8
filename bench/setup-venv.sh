#!/usr/bin/env bash
# Creates .venv (on Debian's Python, seeing its system packages) with the
# pinned PyPI packages the benchmarks need: onnxruntime-training and
# PyTorch 2.x (about 6 GB with the CUDA libraries PyPI's torch depends on).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -r bench/requirements.txt
.venv/bin/python -c "import onnxruntime.training, torch, torchvision; \
print('onnxruntime-training', __import__('onnxruntime').__version__, \
'and torch', torch.__version__, 'ready in .venv')" 2>/dev/null
