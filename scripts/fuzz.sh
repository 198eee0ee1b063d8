#!/usr/bin/env bash
# Fuzzes dlc's ONNX importer (and the passes behind it) with libFuzzer, from
# the committed seed corpus, for a fixed time or number of runs:
#   scripts/fuzz.sh --time 60        (CI)
#   scripts/fuzz.sh --runs 1000000   (bench/fuzz)
# Builds build-fuzz/ with clang 22 (-fsanitize=fuzzer,address,undefined).
# Exits non-zero on any crash; the input is left in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=(-max_total_time=60)
case "${1:-}" in
  --time) limit=(-max_total_time="$2") ;;
  --runs) limit=(-runs="$2") ;;
  "") ;;
  *) echo "usage: $0 [--time SECONDS | --runs N]" >&2; exit 2 ;;
esac

build_dir=build-fuzz
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DDLC_BUILD_FUZZER=ON > "$build_dir.configure.log" 2>&1 ||
    { cat "$build_dir.configure.log"; exit 1; }
fi
cmake --build "$build_dir" --target dlc-import-fuzzer

# Every crash found so far, first: each must now end in a diagnostic.
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
  "$build_dir/bin/dlc-import-fuzzer" \
  test/fuzz/regressions/* > "$build_dir/regressions.log" 2>&1 ||
  { cat "$build_dir/regressions.log"; exit 1; }
echo "fuzz: $(ls test/fuzz/regressions | wc -l) regression inputs pass"

# New inputs go to a scratch directory; the committed corpus stays as it is.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build_dir/crashes"
# One process, so the count of executions is the whole run's.
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
  "$build_dir/bin/dlc-import-fuzzer" \
  "${limit[@]}" -max_len=65536 -timeout=20 -rss_limit_mb=3072 \
  -artifact_prefix="$build_dir/crashes/" -print_final_stats=1 \
  "$work" test/fuzz/corpus
