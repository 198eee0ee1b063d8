#!/usr/bin/env bash
# Installs everything dlc needs to build and test, from Debian's packages.
# Idempotent: packages already present are skipped, so a warm machine costs seconds.
set -euo pipefail

packages=(
  # Toolchain and build.
  cmake ninja-build ccache g++ pkg-config zlib1g-dev
  # LLVM/MLIR 22 (shared MLIR library, lit and FileCheck).
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # ONNX protobuf classes and checker.
  libonnx-dev libprotobuf-dev protobuf-compiler
  # Runtime: MPI, oneDNN (matrix products), OpenMP comes with g++.
  libopenmpi-dev openmpi-bin libdnnl-dev
  # The importer's fuzzer: clang with libFuzzer and the sanitizers.
  clang-22 libclang-rt-22-dev
  # Tests and references.
  libgtest-dev python3-numpy python3-onnx python3-torch python3-torchvision
  python3-venv python3-pytest
  # Data: Fashion-MNIST, and ONNX's conformance test data.
  dataset-fashion-mnist libonnx-testdata
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
