#!/usr/bin/env bash
# The main job on the bundled default: install what is missing, build dlc,
# compile the bundled MLP (784-512-256-10) into a training executable and
# train it for one epoch on Fashion-MNIST, writing the trained model.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh

out=build/demo
mkdir -p "$out"
set -x
build/bin/dlc models/mlp.onnx -o "$out/trainer" --batch 128 \
  --loss cross-entropy --optimizer sgd --lr 0.05 --momentum 0.9
"$out/trainer" --data /usr/share/datasets/fashion-mnist --epochs 1 \
  --save "$out/trained.onnx"
