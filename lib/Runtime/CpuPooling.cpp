//===- CpuPooling.cpp - CPU backend: max and average pooling --------------===//
//
// oneDNN's pooling primitives, cached per geometry. Max pooling's gradient
// needs the forward pass's workspace (where each maximum was); rather than
// keep it in the arena from forward to backward, the gradient reruns the
// forward pass into a workspace of its own, which costs one cheap pooling.
//
// Geometries oneDNN refuses, and dilated windows, fall back to plain loops,
// one (image, channel) plane per OpenMP task, so the gradient scatter of
// overlapping windows never races; there max pooling's gradient finds each
// window's maximum again from the input. The loops read NCHW only, so the
// compiler keeps those tensors plain (pool2dOnLibrary).
//
// oneDNN pools with y in x's layout; where the arena keeps y (and dy) in
// another, the Execution reorders.
//
//===----------------------------------------------------------------------===//

#include "CpuDnnl.h"
#include "Error.h"
#include "dlc/Runtime/CpuWorkspaces.h"
#include "dlc/Runtime/Kernels.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

namespace dlc::rt {

namespace {

using namespace dnnl_support;

struct PoolPrimitives {
  Execution forward, recordMaxima, backward;
  /// Max pooling: where the forward pass recorded the maxima, for the
  /// backward pass in the same call; in the workspace, before both.
  dnnl::memory maxima;
};

/// The primitives of one geometry, or null where oneDNN refuses it.
std::unique_ptr<PoolPrimitives> build(const Pool2DGeometry &g, bool max) {
  using namespace dnnl;
  // Dilated windows take the loops.
  if (g.dilationH != 1 || g.dilationW != 1)
    return nullptr;
  using Tag = memory::format_tag;
  auto f32 = memory::data_type::f32;
  memory::dims dstDims = {g.batch, g.channels, g.outHeight, g.outWidth};
  memory::desc src = activationDesc(
      {g.batch, g.channels, g.inHeight, g.inWidth}, g.inputBlock);
  memory::desc arenaDst = activationDesc(dstDims, g.outputBlock);
  memory::desc dst = activationDesc(dstDims, g.inputBlock);
  memory::dims strides = {g.strideH, g.strideW},
               kernel = {g.kernelHeight, g.kernelWidth},
               padBegin = {g.padTop, g.padLeft},
               padEnd = {g.padBottom, g.padRight};
  algorithm algo = max ? algorithm::pooling_max
                   : g.countIncludePad ? algorithm::pooling_avg_include_padding
                                       : algorithm::pooling_avg_exclude_padding;
  auto p = std::make_unique<PoolPrimitives>();
  try {
    pooling_forward::primitive_desc inference(
        {prop_kind::forward_inference, algo, src, dst, strides, kernel,
         padBegin, padEnd},
        attributes(), engine());
    pooling_forward::primitive_desc training(
        {prop_kind::forward_training, algo, src, dst, strides, kernel,
         padBegin, padEnd},
        attributes(), engine());
    pooling_backward::primitive_desc backward(
        {algo, src, dst, strides, kernel, padBegin, padEnd}, attributes(),
        engine(), training);
    p->forward = Execution(inference);
    p->forward.addInput(DNNL_ARG_SRC, src);
    p->forward.addOutput(DNNL_ARG_DST, arenaDst, dst);
    p->backward = Execution(backward);
    p->backward.addInput(DNNL_ARG_DIFF_DST, arenaDst, dst);
    p->backward.addOutput(DNNL_ARG_DIFF_SRC, src);
    if (max) {
      p->maxima = memory(training.workspace_desc(), engine(), DNNL_MEMORY_NONE);
      p->recordMaxima = Execution(training);
      p->recordMaxima.addInput(DNNL_ARG_SRC, src);
      p->recordMaxima.addDiscarded(DNNL_ARG_DST, dst);
      p->recordMaxima.addFixed(DNNL_ARG_WORKSPACE, p->maxima);
      p->backward.addFixed(DNNL_ARG_WORKSPACE, p->maxima);
    }
  } catch (const dnnl::error &) {
    return nullptr;
  }
  return p;
}

PoolPrimitives *primitives(const Pool2DGeometry &g, bool max) {
  using Key = std::array<int64_t, 20>;
  static std::map<Key, std::unique_ptr<PoolPrimitives>> cache;
  static std::mutex mutex;
  Key key = {g.batch,     g.channels,  g.inHeight,        g.inWidth,
             g.outHeight, g.outWidth,  g.kernelHeight,    g.kernelWidth,
             g.strideH,   g.strideW,   g.padTop,          g.padLeft,
             g.padBottom, g.padRight,  g.countIncludePad, max,
             g.dilationH, g.dilationW, g.inputBlock,      g.outputBlock};
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, build(g, max)).first;
  if (!it->second && (g.inputBlock || g.outputBlock))
    throw Error("pooling: oneDNN refuses this geometry, and the plain loops "
                "behind it read NCHW only, not the blocked layout this "
                "program was compiled with");
  return it->second.get();
}

/// Calls `body(plane, oh, ow, hStart, wStart)` for every window, whose taps
/// are at hStart + kh * dilationH, wStart + kw * dilationW.
template <typename Body>
void forEachWindow(const Pool2DGeometry &g, Body body) {
  int64_t planes = g.batch * g.channels;
  #pragma omp parallel for
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oh = 0; oh < g.outHeight; ++oh)
      for (int64_t ow = 0; ow < g.outWidth; ++ow)
        body(plane, oh, ow, oh * g.strideH - g.padTop,
             ow * g.strideW - g.padLeft);
}

/// Calls `tap(index)` for the in-plane index of every tap of the window at
/// (hStart, wStart) that lies inside the input, in row-major order.
template <typename Tap>
void forEachTap(const Pool2DGeometry &g, int64_t hStart, int64_t wStart,
                Tap tap) {
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

int64_t inputPlane(const Pool2DGeometry &g) { return g.inHeight * g.inWidth; }
int64_t outputPlane(const Pool2DGeometry &g) {
  return g.outHeight * g.outWidth;
}

/// The index (in its plane) of the first maximum of a window; -1 if the
/// window holds only padding.
int64_t argMax(const Pool2DGeometry &g, const float *plane, int64_t hStart,
               int64_t wStart) {
  int64_t best = -1;
  forEachTap(g, hStart, wStart, [&](int64_t i) {
    if (best < 0 || plane[i] > plane[best])
      best = i;
  });
  return best;
}

float divisor(const Pool2DGeometry &g, int64_t hStart, int64_t wStart) {
  if (g.countIncludePad)
    return g.kernelHeight * g.kernelWidth;
  int64_t taps = 0;
  forEachTap(g, hStart, wStart, [&](int64_t) { ++taps; });
  return taps;
}

void maxPool2dLoops(const Pool2DGeometry &g, const float *x, float *y) {
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t hStart,
                       int64_t wStart) {
    const float *in = x + plane * inputPlane(g);
    int64_t best = argMax(g, in, hStart, wStart);
    y[plane * outputPlane(g) + oh * g.outWidth + ow] =
        best < 0 ? -std::numeric_limits<float>::infinity() : in[best];
  });
}

void maxPool2dGradLoops(const Pool2DGeometry &g, const float *dy,
                        const float *x, float *dx) {
  std::memset(dx, 0, g.batch * g.channels * inputPlane(g) * sizeof(float));
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t hStart,
                       int64_t wStart) {
    const float *in = x + plane * inputPlane(g);
    if (int64_t best = argMax(g, in, hStart, wStart); best >= 0)
      dx[plane * inputPlane(g) + best] +=
          dy[plane * outputPlane(g) + oh * g.outWidth + ow];
  });
}

void avgPool2dLoops(const Pool2DGeometry &g, const float *x, float *y) {
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t hStart,
                       int64_t wStart) {
    const float *in = x + plane * inputPlane(g);
    float sum = 0.0f;
    forEachTap(g, hStart, wStart, [&](int64_t i) { sum += in[i]; });
    y[plane * outputPlane(g) + oh * g.outWidth + ow] =
        sum / divisor(g, hStart, wStart);
  });
}

void avgPool2dGradLoops(const Pool2DGeometry &g, const float *dy,
                        float *dx) {
  std::memset(dx, 0, g.batch * g.channels * inputPlane(g) * sizeof(float));
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t hStart,
                       int64_t wStart) {
    float share = dy[plane * outputPlane(g) + oh * g.outWidth + ow] /
                  divisor(g, hStart, wStart);
    float *out = dx + plane * inputPlane(g);
    forEachTap(g, hStart, wStart, [&](int64_t i) { out[i] += share; });
  });
}

/// What max pooling's gradient needs: the maxima first, then what each of
/// its two primitives needs (the forward's discarded output), one after
/// the other in the same bytes.
size_t maxPoolGradBytes(const PoolPrimitives &p) {
  return alignUp(p.maxima.get_desc().get_size()) +
         std::max(p.recordMaxima.workspaceBytes(), p.backward.workspaceBytes());
}

} // namespace

void maxPool2d(Context &, const Pool2DGeometry &g, const float *x, float *y,
               int8_t *scratch, int64_t scratchBytes) {
  if (PoolPrimitives *p = primitives(g, /*max=*/true))
    return p->forward.run({x, y}, reinterpret_cast<char *>(scratch),
                          scratchBytes);
  maxPool2dLoops(g, x, y);
}

void maxPool2dGrad(Context &, const Pool2DGeometry &g, const float *dy,
                   const float *x, float *dx, int8_t *scratch,
                   int64_t scratchBytes) {
  if (PoolPrimitives *p = primitives(g, /*max=*/true)) {
    // The compiler's scratch when everything fits, else the shared
    // workspace.
    size_t need = maxPoolGradBytes(*p);
    char *base = scratch && need <= static_cast<size_t>(scratchBytes)
                     ? reinterpret_cast<char *>(scratch)
                     : workspace(need);
    size_t maximaBytes = alignUp(p->maxima.get_desc().get_size());
    p->maxima.set_data_handle(base);
    char *rest = base + maximaBytes;
    int64_t restBytes = need - maximaBytes;
    p->recordMaxima.run({x}, rest, restBytes);
    return p->backward.run({dy, dx}, rest, restBytes);
  }
  maxPool2dGradLoops(g, dy, x, dx);
}

void avgPool2d(Context &, const Pool2DGeometry &g, const float *x, float *y,
               int8_t *scratch, int64_t scratchBytes) {
  if (PoolPrimitives *p = primitives(g, /*max=*/false))
    return p->forward.run({x, y}, reinterpret_cast<char *>(scratch),
                          scratchBytes);
  avgPool2dLoops(g, x, y);
}

void avgPool2dGrad(Context &, const Pool2DGeometry &g, const float *dy,
                   float *dx, int8_t *scratch, int64_t scratchBytes) {
  if (PoolPrimitives *p = primitives(g, /*max=*/false))
    return p->backward.run({dy, dx}, reinterpret_cast<char *>(scratch),
                           scratchBytes);
  avgPool2dGradLoops(g, dy, dx);
}

bool pool2dOnLibrary(const Pool2DGeometry &g, bool max) {
  return build(g, max) != nullptr;
}

int64_t pool2dWorkspaceBytes(const Pool2DGeometry &g, PoolKernel kernel) {
  bool max = kernel == PoolKernel::MaxForward ||
             kernel == PoolKernel::MaxBackward;
  std::unique_ptr<PoolPrimitives> p = build(g, max);
  if (!p)
    return 0;
  switch (kernel) {
  case PoolKernel::MaxForward:
  case PoolKernel::AvgForward:
    return p->forward.workspaceBytes();
  case PoolKernel::MaxBackward:
    return maxPoolGradBytes(*p);
  case PoolKernel::AvgBackward:
    return p->backward.workspaceBytes();
  }
  return -1;
}

} // namespace dlc::rt
