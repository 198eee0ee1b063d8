//===- CudaIndexing.h - the CUDA kernels' per-thread arithmetic -*- C++ -*-===//
//
// Where each thread of the CUDA backend's broadcasting, reducing, moving,
// LRN and pooling kernels reads and writes, and what LRN and pooling
// compute there: plain host/device functions, so that GoogleTest checks them on
// the CPU (unittests/Runtime/CudaIndexingTest.cpp) against the CPU backend's
// kernels. No CUDA headers: a C++ compiler builds this too.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_CUDAINDEXING_H
#define DLC_LIB_RUNTIME_CUDAINDEXING_H

#include "dlc/Runtime/Kernels.h"

#include <cmath>
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

/// y = x with its dimensions permuted (y's dimension d is x's perm[d]):
/// y's shape and how far x moves when each of y's indices grows.
struct Permutation {
  int rank;
  int64_t outShape[kMaxRank], step[kMaxRank];
};

inline Permutation makePermutation(const int64_t *shape, const int64_t *perm,
                                   int rank) {
  Permutation p{};
  p.rank = rank;
  int64_t xStrides[kMaxRank];
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    xStrides[d] = stride;
    stride *= shape[d];
  }
  for (int d = 0; d < rank; ++d) {
    p.outShape[d] = shape[perm[d]];
    p.step[d] = xStrides[perm[d]];
  }
  return p;
}

/// Where in x element i of the permuted y is.
DLC_HOST_DEVICE inline int64_t permutedOffset(const Permutation &p, int64_t i) {
  int64_t offset = 0;
  for (int d = p.rank - 1; d >= 0; --d) {
    offset += i % p.outShape[d] * p.step[d];
    i /= p.outShape[d];
  }
  return offset;
}

/// A tensor of `shape` placed in a larger one of `bigShape` at `at` (pad
/// writes x there, crop reads y from there).
struct Placement {
  int rank;
  int64_t shape[kMaxRank], bigShape[kMaxRank], at[kMaxRank];
};

inline Placement makePlacement(const int64_t *shape, int rank,
                               const int64_t *at, const int64_t *bigShape) {
  Placement p{};
  p.rank = rank;
  for (int d = 0; d < rank; ++d) {
    p.shape[d] = shape[d];
    p.bigShape[d] = bigShape[d];
    p.at[d] = at[d];
  }
  return p;
}

/// Where element `small` of the placed tensor is in the big one.
DLC_HOST_DEVICE inline int64_t placedOffset(const Placement &p, int64_t small) {
  int64_t offset = 0, stride = 1;
  for (int d = p.rank - 1; d >= 0; --d) {
    offset += (small % p.shape[d] + p.at[d]) * stride;
    small /= p.shape[d];
    stride *= p.bigShape[d];
  }
  return offset;
}

/// Which element of the placed tensor element `big` of the big one is, or
/// -1 when it lies outside (padding).
DLC_HOST_DEVICE inline int64_t placedSource(const Placement &p, int64_t big) {
  int64_t source = 0, stride = 1;
  for (int d = p.rank - 1; d >= 0; --d) {
    int64_t index = big % p.bigShape[d] - p.at[d];
    big /= p.bigShape[d];
    if (index < 0 || index >= p.shape[d])
      return -1;
    source += index * stride;
    stride *= p.shape[d];
  }
  return source;
}

/// ONNX LRN over an n x c x spatial tensor, one element at a time (the CPU
/// kernel's formulas, CpuNormalization.cpp): channel ch's window is
/// [ch - (size-1)/2, ch + ceil((size-1)/2)] clipped to the channels, and
/// s_ch = bias + alpha/size * the sum of its squares. `base` is the element
/// of channel 0 at this (image, position).
DLC_HOST_DEVICE inline double lrnScale(const float *x, int64_t base, int64_t ch,
                                       int64_t c, int64_t spatial, int64_t size,
                                       float alpha, float bias) {
  int64_t below = (size - 1) / 2, above = size - 1 - below;
  int64_t first = ch - below < 0 ? 0 : ch - below;
  int64_t last = ch + above > c - 1 ? c - 1 : ch + above;
  double sum = 0.0;
  for (int64_t i = first; i <= last; ++i)
    sum += double(x[base + i * spatial]) * x[base + i * spatial];
  return bias + double(alpha) / size * sum;
}

/// y_ch = x_ch s_ch^-beta.
DLC_HOST_DEVICE inline float lrnValue(const float *x, int64_t base, int64_t ch,
                                      int64_t c, int64_t spatial, int64_t size,
                                      float alpha, float beta, float bias) {
  return static_cast<float>(
      x[base + ch * spatial] *
      pow(lrnScale(x, base, ch, c, spatial, size, alpha, bias), -double(beta)));
}

/// dx_j = dy_j s_j^-beta - 2 alpha beta / size * x_j * the sum, over the
/// channels ch whose window holds j, of dy_ch x_ch s_ch^(-beta-1).
DLC_HOST_DEVICE inline float lrnGradValue(const float *dy, const float *x,
                                          int64_t base, int64_t j, int64_t c,
                                          int64_t spatial, int64_t size,
                                          float alpha, float beta, float bias) {
  int64_t below = (size - 1) / 2, above = size - 1 - below;
  int64_t first = j - above < 0 ? 0 : j - above;
  int64_t last = j + below > c - 1 ? c - 1 : j + below;
  double sum = 0.0;
  for (int64_t ch = first; ch <= last; ++ch)
    sum += double(dy[base + ch * spatial]) * x[base + ch * spatial] *
           pow(lrnScale(x, base, ch, c, spatial, size, alpha, bias),
               -double(beta) - 1.0);
  double scale = lrnScale(x, base, j, c, spatial, size, alpha, bias);
  return static_cast<float>(dy[base + j * spatial] * pow(scale, -double(beta)) -
                            2.0 * alpha * beta / size * x[base + j * spatial] *
                                sum);
}

//===----------------------------------------------------------------------===//
// Pooling windows cuDNN does not take (uneven padding, dilation), as the
// CPU backend's loops compute them (CpuPooling.cpp): a thread per output
// for the forward pass, a thread per input for the gradients, which
// gathers from every window holding its element (no atomics, a fixed
// order). Written apart from the CPU loops, which scatter: the test
// compares the two.
//===----------------------------------------------------------------------===//

/// Calls `tap(index)` for the in-plane index of every tap of output
/// (oh, ow)'s window that lies inside the input, in row-major order.
template <typename Tap>
DLC_HOST_DEVICE inline void forEachPoolTap(const Pool2DGeometry &g, int64_t oh,
                                           int64_t ow, Tap tap) {
  int64_t hStart = oh * g.strideH - g.padTop;
  int64_t wStart = ow * g.strideW - g.padLeft;
  for (int64_t kh = 0; kh < g.kernelHeight; ++kh) {
    int64_t h = hStart + kh * g.dilationH;
    if (h < 0 || h >= g.inHeight)
      continue;
    for (int64_t kw = 0; kw < g.kernelWidth; ++kw) {
      int64_t w = wStart + kw * g.dilationW;
      if (w >= 0 && w < g.inWidth)
        tap(h * g.inWidth + w);
    }
  }
}

/// Calls `window(oh, ow)` for every output whose window holds input (h, w),
/// by kernel tap.
template <typename Window>
DLC_HOST_DEVICE inline void forEachPoolWindowHolding(const Pool2DGeometry &g,
                                                     int64_t h, int64_t w,
                                                     Window window) {
  for (int64_t kh = 0; kh < g.kernelHeight; ++kh) {
    int64_t th = h + g.padTop - kh * g.dilationH;
    if (th < 0 || th % g.strideH != 0 || th / g.strideH >= g.outHeight)
      continue;
    for (int64_t kw = 0; kw < g.kernelWidth; ++kw) {
      int64_t tw = w + g.padLeft - kw * g.dilationW;
      if (tw >= 0 && tw % g.strideW == 0 && tw / g.strideW < g.outWidth)
        window(th / g.strideH, tw / g.strideW);
    }
  }
}

/// The in-plane index of the first maximum of output (oh, ow)'s window;
/// -1 if the window holds only padding.
DLC_HOST_DEVICE inline int64_t poolArgMax(const Pool2DGeometry &g,
                                          const float *plane, int64_t oh,
                                          int64_t ow) {
  int64_t best = -1;
  forEachPoolTap(g, oh, ow, [&](int64_t i) {
    if (best < 0 || plane[i] > plane[best])
      best = i;
  });
  return best;
}

DLC_HOST_DEVICE inline float poolDivisor(const Pool2DGeometry &g, int64_t oh,
                                         int64_t ow) {
  if (g.countIncludePad)
    return static_cast<float>(g.kernelHeight * g.kernelWidth);
  int64_t taps = 0;
  forEachPoolTap(g, oh, ow, [&](int64_t) { ++taps; });
  return static_cast<float>(taps);
}

/// Output (oh, ow) of max pooling one plane; -infinity for a window of
/// padding alone.
DLC_HOST_DEVICE inline float maxPoolValue(const Pool2DGeometry &g,
                                          const float *plane, int64_t oh,
                                          int64_t ow) {
  int64_t best = poolArgMax(g, plane, oh, ow);
  return best < 0 ? -INFINITY : plane[best];
}

DLC_HOST_DEVICE inline float avgPoolValue(const Pool2DGeometry &g,
                                          const float *plane, int64_t oh,
                                          int64_t ow) {
  float sum = 0.0f;
  forEachPoolTap(g, oh, ow, [&](int64_t i) { sum += plane[i]; });
  return sum / poolDivisor(g, oh, ow);
}

/// dx at input (h, w) of one plane: the dy of every window whose first
/// maximum it is.
DLC_HOST_DEVICE inline float maxPoolGradValue(const Pool2DGeometry &g,
                                              const float *dyPlane,
                                              const float *xPlane, int64_t h,
                                              int64_t w) {
  float sum = 0.0f;
  forEachPoolWindowHolding(g, h, w, [&](int64_t oh, int64_t ow) {
    if (poolArgMax(g, xPlane, oh, ow) == h * g.inWidth + w)
      sum += dyPlane[oh * g.outWidth + ow];
  });
  return sum;
}

/// dx at input (h, w): each window's dy shared among its divisor.
DLC_HOST_DEVICE inline float avgPoolGradValue(const Pool2DGeometry &g,
                                              const float *dyPlane, int64_t h,
                                              int64_t w) {
  float sum = 0.0f;
  forEachPoolWindowHolding(g, h, w, [&](int64_t oh, int64_t ow) {
    sum += dyPlane[oh * g.outWidth + ow] / poolDivisor(g, oh, ow);
  });
  return sum;
}

} // namespace dlc::rt::cuda

#endif // DLC_LIB_RUNTIME_CUDAINDEXING_H
