//===- CudaIndexing.h - the CUDA kernels' index arithmetic ------*- C++ -*-===//
//
// Where each thread of the CUDA backend's broadcasting and reducing kernels
// reads and writes: plain host/device functions, so that GoogleTest checks
// them on the CPU (unittests/Runtime/CudaIndexingTest.cpp) against the CPU
// backend's semantics. No CUDA headers: a C++ compiler builds this too.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_CUDAINDEXING_H
#define DLC_LIB_RUNTIME_CUDAINDEXING_H

#include <cstdint>

#ifdef __CUDACC__
#define DLC_HOST_DEVICE __host__ __device__
#else
#define DLC_HOST_DEVICE
#endif

namespace dlc::rt::cuda {

constexpr int kMaxRank = 8;

/// An elementwise result of `shape` (row-major) read from up to two
/// operands with their own strides (0 along a broadcast dimension).
struct Dims {
  int64_t shape[kMaxRank];
  int64_t strides[2][kMaxRank];
  int rank;
};

/// Element i of the result reads operand 0 at o0 and operand 1 at o1.
DLC_HOST_DEVICE inline void broadcastOffsets(const Dims &dims, int64_t i,
                                             int64_t &o0, int64_t &o1) {
  o0 = o1 = 0;
  for (int d = dims.rank - 1; d >= 0; --d) {
    int64_t index = i % dims.shape[d];
    i /= dims.shape[d];
    o0 += index * dims.strides[0][d];
    o1 += index * dims.strides[1][d];
  }
}

/// A sum of a row-major x (`shape`) onto a dense y: y's strides are 0
/// along the summed dimensions, and output j sums x over them at the place
/// of the kept ones (the CPU backend's reduceSumTo).
struct Reduction {
  int rank, reducedRank;
  int64_t shape[kMaxRank], xStrides[kMaxRank], yStrides[kMaxRank];
  int64_t reducedShape[kMaxRank], reducedStrides[kMaxRank];
  /// The elements each output sums.
  int64_t perOutput;
};

/// The reduction of x (`shape`, `rank` <= kMaxRank) onto y (`yStrides`).
inline Reduction makeReduction(const int64_t *shape, int rank,
                               const int64_t *yStrides) {
  Reduction r{};
  r.rank = rank;
  r.perOutput = 1;
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    r.shape[d] = shape[d];
    r.xStrides[d] = stride;
    r.yStrides[d] = yStrides[d];
    stride *= shape[d];
  }
  for (int d = 0; d < rank; ++d)
    if (yStrides[d] == 0) {
      r.reducedShape[r.reducedRank] = shape[d];
      r.reducedStrides[r.reducedRank++] = r.xStrides[d];
      r.perOutput *= shape[d];
    }
  return r;
}

/// Where in x output j's elements start.
DLC_HOST_DEVICE inline int64_t outputBase(const Reduction &r, int64_t j) {
  int64_t base = 0;
  for (int d = 0; d < r.rank; ++d)
    if (r.yStrides[d] != 0)
      base += (j / r.yStrides[d]) % r.shape[d] * r.xStrides[d];
  return base;
}

/// The offset from an output's base of the k-th element it sums (the last
/// summed dimension fastest, so that neighbouring k read neighbouring x).
DLC_HOST_DEVICE inline int64_t reducedOffset(const Reduction &r, int64_t k) {
  int64_t offset = 0;
  for (int d = r.reducedRank - 1; d >= 0; --d) {
    offset += k % r.reducedShape[d] * r.reducedStrides[d];
    k /= r.reducedShape[d];
  }
  return offset;
}

} // namespace dlc::rt::cuda

#endif // DLC_LIB_RUNTIME_CUDAINDEXING_H
