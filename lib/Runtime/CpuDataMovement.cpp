//===- CpuDataMovement.cpp - CPU backend: transpose and row copies --------===//

#include "CpuParallel.h"
#include "dlc/Runtime/Kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace dlc::rt {

void transpose(Context &, const float *x, const int64_t *shape,
               const int64_t *perm, int rank, float *y) {
  // Walk y in order; `step[d]` is how far x moves when y's index d grows.
  std::vector<int64_t> xStrides(rank, 1), step(rank), outShape(rank);
  for (int d = rank - 2; d >= 0; --d)
    xStrides[d] = xStrides[d + 1] * shape[d + 1];
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) {
    step[d] = xStrides[perm[d]];
    outShape[d] = shape[perm[d]];
    total *= outShape[d];
  }
  StridedWalk walk(outShape, step);
  for (int64_t i = 0; i < total; ++i, walk.next())
    y[i] = x[walk.offset()];
}

void copyRows(Context &, const float *src, int64_t srcStride, float *dst,
              int64_t dstStride, int64_t rows, int64_t length) {
  #pragma omp parallel for if (rows * length > 65536)
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dstStride, src + r * srcStride,
                length * sizeof(float));
}

namespace {
/// Calls `body(small, big)` with the element offsets of every element of a
/// tensor of `shape` and of its place in a larger tensor of `bigShape`, when
/// placed at `at`.
template <typename Body>
void forEachPlaced(const int64_t *shape, int rank, const int64_t *at,
                   const int64_t *bigShape, Body body) {
  std::vector<int64_t> bigStrides(rank, 1);
  for (int d = rank - 2; d >= 0; --d)
    bigStrides[d] = bigStrides[d + 1] * bigShape[d + 1];
  int64_t total = 1, start = 0;
  for (int d = 0; d < rank; ++d) {
    total *= shape[d];
    start += at[d] * bigStrides[d];
  }
  StridedWalk walk(std::vector<int64_t>(shape, shape + rank), bigStrides,
                   start);
  for (int64_t small = 0; small < total; ++small, walk.next())
    body(small, walk.offset());
}
} // namespace

void pad(Context &, const float *x, const int64_t *shape, int rank,
         const int64_t *low, float value, float *y, const int64_t *outShape) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d)
    total *= outShape[d];
  std::fill(y, y + total, value);
  forEachPlaced(shape, rank, low, outShape,
                [&](int64_t small, int64_t big) { y[big] = x[small]; });
}

void crop(Context &, const float *x, const int64_t *inShape, int rank,
          const int64_t *offsets, float *y, const int64_t *shape) {
  forEachPlaced(shape, rank, offsets, inShape,
                [&](int64_t small, int64_t big) { y[small] = x[big]; });
}

} // namespace dlc::rt
