//===- CpuParallel.h - CPU backend: loop helpers ---------------*- C++ -*-===//
//
// Helpers that keep the elementwise kernels vectorisable: each thread gets a
// contiguous chunk and runs a plain loop over it, with the pointers held by
// value so the compiler sees them invariant. Broadcasts merge the
// dimensions their operands step through alike, so a same-shape op is one
// flat loop and a bias over N x C x H x W is rows of H * W. StridedWalk is
// the nested loop for tensors read out of order.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_CPUPARALLEL_H
#define DLC_LIB_RUNTIME_CPUPARALLEL_H

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace dlc::rt {

/// Calls body(begin, end) on one contiguous chunk of [0, n) per OpenMP
/// thread, or once on the calling thread when n is below `grain` (a
/// parallel region costs more than such a loop).
template <typename Body>
void parallelChunks(int64_t n, Body body, int64_t grain = 32768) {
  if (n <= grain || omp_get_max_threads() == 1) {
    body(int64_t(0), n);
    return;
  }
  #pragma omp parallel
  {
    int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    // Whole cache lines per chunk.
    int64_t chunk = ((n + threads - 1) / threads + 15) / 16 * 16;
    int64_t begin = std::min(n, thread * chunk);
    int64_t end = std::min(n, begin + chunk);
    if (begin < end)
      body(begin, end);
  }
}

/// The element offset of a multi-index that walks `shape` in row-major
/// order (last dimension fastest), moving by strides[d] along dimension d:
/// a nested loop over any number of dimensions, for tensors read out of
/// order (transposed, placed in a larger one, reduced over some axes).
class StridedWalk {
public:
  StridedWalk(std::vector<int64_t> shape, std::vector<int64_t> strides,
              int64_t start = 0)
      : shape(std::move(shape)), strides(std::move(strides)),
        index(this->shape.size(), 0), position(start) {}

  int64_t offset() const { return position; }
  void next() {
    for (int d = int(shape.size()) - 1; d >= 0; --d) {
      position += strides[d];
      if (++index[d] < shape[d])
        return;
      position -= strides[d] * shape[d];
      index[d] = 0;
    }
  }

private:
  std::vector<int64_t> shape, strides, index;
  int64_t position;
};

/// y[i] = f(i) for i < n; `f` should capture by value.
template <typename F>
void map(float *y, int64_t n, F f) {
  parallelChunks(n, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      y[i] = f(i);
  });
}

/// The iteration space of an op whose N operands are read through
/// broadcast strides over a dense result: adjacent dimensions are merged
/// wherever every operand steps through them as through one, and
/// extent-1 dimensions dropped.
template <size_t N>
struct BroadcastSpace {
  std::vector<int64_t> shape;                  // outermost first
  std::vector<std::array<int64_t, N>> strides; // per dimension, per operand

  BroadcastSpace(const int64_t *fullShape, int rank,
                 const int64_t *const (&operandStrides)[N]) {
    for (int d = rank - 1; d >= 0; --d) {
      if (fullShape[d] == 1)
        continue;
      std::array<int64_t, N> s;
      for (size_t o = 0; o < N; ++o)
        s[o] = operandStrides[o][d];
      if (!shape.empty()) {
        bool continues = true;
        for (size_t o = 0; o < N; ++o)
          continues &= s[o] == strides.back()[o] * shape.back();
        if (continues) {
          shape.back() *= fullShape[d];
          continue;
        }
      }
      shape.push_back(fullShape[d]);
      strides.push_back(s);
    }
    if (shape.empty()) {
      shape.push_back(1);
      strides.push_back({});
    }
    std::reverse(shape.begin(), shape.end());
    std::reverse(strides.begin(), strides.end());
  }

  int64_t inner() const { return shape.back(); }
  int64_t total() const {
    int64_t n = 1;
    for (int64_t extent : shape)
      n *= extent;
    return n;
  }

  /// Calls row(first, bases, length) for runs of consecutive result
  /// elements [first, first + length) within one innermost row; operand o
  /// starts at bases[o] and steps by strides.back()[o]. Threads split the
  /// elements.
  template <typename Row>
  void forEachRun(Row row) const {
    int64_t n = total(), length = inner();
    parallelChunks(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end;) {
        int64_t r = i / length, j = i % length;
        std::array<int64_t, N> bases{};
        for (int d = int(shape.size()) - 2; d >= 0; --d) {
          int64_t index = r % shape[d];
          r /= shape[d];
          for (size_t o = 0; o < N; ++o)
            bases[o] += index * strides[d][o];
        }
        for (size_t o = 0; o < N; ++o)
          bases[o] += j * strides.back()[o];
        int64_t run = std::min(length - j, end - i);
        row(i, bases, run);
        i += run;
      }
    });
  }
};

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_CPUPARALLEL_H
