#!/usr/bin/env bash
# The GPU check (issue 2, point 11; issue 10, point 4), for a machine with
# an NVIDIA GPU, PyTorch and torchvision but no LLVM/MLIR.
#
#   scripts/gpu-check.sh prepare   here (dlc built): compile for --target=cuda
#                                  into device/ the MLP, the Fashion-MNIST
#                                  CNN, ResNet-18, VGG-16 and ResNet-50 (the
#                                  CNNs with --external-weights: PyTorch makes
#                                  their weights there), with the shared
#                                  libraries they need beyond CUDA's own, the
#                                  Fashion-MNIST files and the MLP's weights
#   scripts/gpu-check.sh run       there: train the MLP one epoch (test
#                                  accuracy >= 0.82, throughput against
#                                  PyTorch eager), 50 steps of it with
#                                  --comm nccl (on one rank: the same losses
#                                  as without), then python/dlc_tools/
#                                  gpu_check.py: the CNNs' first-step
#                                  gradients against PyTorch, the CNN's
#                                  accuracy after 2 epochs, and ResNet-50 and
#                                  VGG-16 step time and memory against
#                                  PyTorch eager and torch.compile
#   scripts/gpu-check.sh           prepare if dlc is built, then run
#
# Results go to $OUT when it is set (the device tool brings them back).
# GPU_CHECK_SKIP_COMPILE=1 leaves torch.compile out; GPU_CHECK_PROFILE=1 adds
# where dlc's step time goes (DLC_CUDA_PROFILE); GPU_CHECK_ONLY=PART,... runs
# those parts of gpu_check.py alone (and not the MLP).
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
  # The CNNs: the models exported here give the structure (and initializer
  # names); the weights come from PyTorch on the GPU machine (--init).
  models=$(mktemp -d)
  trap 'rm -rf "$models"' EXIT
  PYTHONPATH=python /usr/bin/python3 -m dlc_tools.export_cnn "$models/cnn.onnx"
  for spec in resnet18:64:10 vgg16:224:10 resnet50:224:1000 vgg16:224:1000; do
    IFS=: read -r name size classes <<<"$spec"
    PYTHONPATH=python /usr/bin/python3 -m dlc_tools.export_torchvision "$name" \
      "$models/$name-$classes.onnx" --size "$size" --classes "$classes" 2>/dev/null
  done
  cuda() { build/bin/dlc "$1" --target=cuda --external-weights -o "$dir/$2" "${@:3}"; }
  PYTHONPATH=python /usr/bin/python3 -m dlc_tools.export_ops "$models/ops.onnx"
  cuda "$models/cnn.onnx" cnn --batch 128 --lr 0.05 --momentum 0.9
  cuda "$models/ops.onnx" ops --batch 4
  cuda "$models/resnet18-10.onnx" resnet18 --batch 4
  cuda "$models/vgg16-10.onnx" vgg16 --batch 2 --dropout=off
  cuda "$models/resnet50-1000.onnx" resnet50-b64 --batch 64 --lr 0.01 --momentum 0.9
  cuda "$models/vgg16-1000.onnx" vgg16-b32 --batch 32 --lr 0.01 --momentum 0.9
  strip "$dir"/trainer "$dir"/cnn "$dir"/ops "$dir"/resnet18 "$dir"/vgg16 "$dir"/resnet50-b64 \
    "$dir"/vgg16-b32
  # Everything the executables load except the C library, the CUDA libraries
  # (the GPU machine has its own, and cuBLAS and cuDNN are too big to carry:
  # cuDNN comes from PyTorch's nvidia-cudnn package there) and the
  # dynamic loader.
  ldd "$dir/trainer" "$dir/cnn" | awk '/=> \// {print $1, $3}' | sort -u |
    while read -r name path; do
      case "$name" in
        libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*) ;;
        libcuda.so*|libcudart.so*|libcublas*.so*|libcudnn*.so*) ;;
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
  echo "gpu-check: prepared $dir/ ($(du -sh "$dir" | cut -f1)): 6 trainers, $(ls "$dir/lib" | wc -l) libraries, data, weights"
}

# The MLP: one epoch, its accuracy and throughput against PyTorch eager.
run_mlp() {
  log="$dir/dlc-run.log"
  "$dir/trainer" --data "$dir/data" --epochs 1 --log-every 100 | tee "$log"
  # The device tool brings back what is under $OUT.
  [ -z "${OUT:-}" ] || { nvidia-smi > "$OUT/nvidia-smi.txt"; cp "$log" "$OUT/"; }
  summary=$(tail -1 "$log")
  python3 - "$summary" "$1" "$dir" <<'PY'
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

# --comm nccl on one rank: NCCL refuses two ranks on one GPU and the GPU
# machine has no mpirun, so this checks that the path loads NCCL, joins a
# communicator and averages in place (over one rank: the same losses).
run_nccl() {
  nccl=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null || true)
  out=${OUT:-$dir/results}
  mkdir -p "$out"
  args=(--data "$dir/data" --steps 50 --log-every 0 --seed 3)
  "$dir/trainer" "${args[@]}" --loss-log "$out/losses-mpi.txt" > /dev/null
  LD_LIBRARY_PATH="$LD_LIBRARY_PATH${nccl:+:$nccl}" \
    "$dir/trainer" "${args[@]}" --comm nccl --loss-log "$out/losses-nccl.txt" > "$out/nccl.log" 2>&1 ||
    { echo "gpu-check: --comm nccl failed:"; cat "$out/nccl.log"; return 1; }
  if cmp -s "$out/losses-mpi.txt" "$out/losses-nccl.txt"; then
    echo "gpu-check: --comm nccl (one rank): 50 losses identical to the default's"
  else
    echo "gpu-check: --comm nccl (one rank): losses differ"; diff "$out/losses-mpi.txt" "$out/losses-nccl.txt" | head
    return 1
  fi
}

run() {
  [ -x "$dir/trainer" ] || { echo "gpu-check: $dir/trainer missing; run 'scripts/gpu-check.sh prepare' where dlc is built" >&2; exit 1; }
  export LD_LIBRARY_PATH="$PWD/$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # cuDNN: the one PyTorch's wheels bring, where there is no system copy.
  cudnn=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "lib"))' 2>/dev/null || true)
  [ -z "$cudnn" ] || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$cudnn"
  missing=$(ldd "$dir/trainer" "$dir/cnn" | grep "not found" || true)
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
  mlp=0
  [ -n "${GPU_CHECK_ONLY:-}" ] || run_mlp "$gpu" || mlp=1
  [ -n "${GPU_CHECK_ONLY:-}" ] || run_nccl || mlp=1
  # The CNNs: gradients, accuracy, step time and memory.
  out=${OUT:-$dir/results}
  mkdir -p "$out"
  cnns=0
  PYTHONPATH=python python3 -m dlc_tools.gpu_check "$dir" "$out" \
    ${GPU_CHECK_SKIP_COMPILE:+--skip-compile} ${GPU_CHECK_PROFILE:+--profile} \
    ${GPU_CHECK_ONLY:+--only "$GPU_CHECK_ONLY"} 2>&1 | tee "$out/gpu-check.log" || cnns=1
  [ "$mlp" = 0 ] && [ "$cnns" = 0 ]
}

case "${1:-all}" in
  prepare) prepare ;;
  run) run ;;
  all) [ -x build/bin/dlc ] && prepare; run ;;
  *) echo "usage: scripts/gpu-check.sh [prepare|run]" >&2; exit 2 ;;
esac
