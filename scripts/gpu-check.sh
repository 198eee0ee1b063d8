#!/usr/bin/env bash
# The GPU check (issue 2, point 11), for a machine with an NVIDIA GPU but no
# LLVM/MLIR.
#
#   scripts/gpu-check.sh prepare   here (dlc built): compile the MLP for
#                                  --target=cuda into device/, with the shared
#                                  libraries it needs beyond CUDA's own, the
#                                  Fashion-MNIST files and the initial weights
#   scripts/gpu-check.sh run       there: train one epoch on the GPU, check
#                                  test accuracy >= 0.82, and compare the
#                                  throughput with PyTorch eager on that GPU
#   scripts/gpu-check.sh           prepare if dlc is built, then run
#
# Without a GPU, `run` does every step up to the GPU run, then says that it
# stopped there and exits with status 3.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=device
data=/usr/share/datasets/fashion-mnist
batch=128 lr=0.05 momentum=0.9

prepare() {
  [ -x build/bin/dlc ] || { echo "gpu-check: build dlc first (scripts/build.sh)" >&2; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir/lib" "$dir/data"
  build/bin/dlc models/mlp.onnx --target=cuda -o "$dir/trainer" \
    --batch $batch --lr $lr --momentum $momentum
  # Everything the executable loads except the C library, the CUDA libraries
  # (the GPU machine has its own, and cuBLAS is too big to carry) and the
  # dynamic loader.
  ldd "$dir/trainer" | awk '/=> \// {print $1, $3}' | while read -r name path; do
    case "$name" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*) ;;
      libcuda.so*|libcudart.so*|libcublas*.so*) ;;
      *) cp -L "$path" "$dir/lib/" ;;
    esac
  done
  # Open MPI's plugins are loaded at run time; singleton runs need none of
  # them but its help files and defaults, which exist wherever it is
  # installed, so the GPU check runs one rank without mpirun.
  cp "$data"/*.gz "$dir/data/"
  /usr/bin/python3 - "$dir/weights.npz" <<'PY'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
model = onnx.load("models/mlp.onnx")
np.savez(sys.argv[1], **{t.name: numpy_helper.to_array(t) for t in model.graph.initializer})
PY
  echo "gpu-check: prepared $dir/ ($(du -sh "$dir" | cut -f1)): trainer, $(ls "$dir/lib" | wc -l) libraries, data, weights"
}

run() {
  [ -x "$dir/trainer" ] || { echo "gpu-check: $dir/trainer missing; run 'scripts/gpu-check.sh prepare' where dlc is built" >&2; exit 1; }
  export LD_LIBRARY_PATH="$PWD/$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  missing=$(ldd "$dir/trainer" | grep "not found" || true)
  if [ -n "$missing" ]; then
    echo "gpu-check: the executable cannot load:"; echo "$missing"
  fi
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu-check: prepared and checked up to the GPU run; no NVIDIA GPU here (nvidia-smi finds none), so it stopped before training."
    exit 3
  fi
  [ -z "$missing" ] || exit 1
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  echo "gpu-check: $gpu"
  log="$dir/dlc-run.log"
  "$dir/trainer" --data "$dir/data" --epochs 1 --log-every 100 | tee "$log"
  # The device tool brings back what is under $OUT.
  [ -z "${OUT:-}" ] || { nvidia-smi > "$OUT/nvidia-smi.txt"; cp "$log" "$OUT/"; }
  summary=$(tail -1 "$log")
  python3 - "$summary" "$gpu" "$dir" <<'PY'
import json, subprocess, sys
summary, gpu, d = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
acc, dlc_rate = summary["test_accuracy"], summary["images_per_second"]
out = subprocess.run([sys.executable, "bench/mlp_vs_pytorch.py", "--torch-worker", "1",
                      "--device", "cuda", "--steps", "400", "--data", d + "/data",
                      "--weights", d + "/weights.npz"], capture_output=True, text=True)
if out.returncode != 0:
    print("gpu-check: PyTorch reference failed:\n" + out.stderr)
    torch_rate = float("nan")
else:
    torch_rate = json.loads(out.stdout.strip().splitlines()[-1])["images_per_second"]
print("gpu-check: %s: dlc test accuracy %.4f (target >= 0.82), dlc %.0f images/s, "
      "PyTorch eager %.0f images/s, ratio %.2fx" % (gpu, acc, dlc_rate, torch_rate,
                                                    dlc_rate / torch_rate))
sys.exit(0 if acc >= 0.82 else 1)
PY
}

case "${1:-all}" in
  prepare) prepare ;;
  run) run ;;
  all) [ -x build/bin/dlc ] && prepare; run ;;
  *) echo "usage: scripts/gpu-check.sh [prepare|run]" >&2; exit 2 ;;
esac
