//===- CpuPooling.cpp - CPU backend: max and average pooling --------------===//
//
// oneDNN's pooling primitives, cached per geometry. Max pooling's gradient
// needs the forward pass's workspace (where each maximum was); rather than
// keep it in the arena from forward to backward, the gradient reruns the
// forward pass into a workspace of its own, which costs one cheap pooling.
//
// Geometries oneDNN refuses fall back to plain loops, one (image, channel)
// plane per OpenMP task, so the gradient scatter of overlapping windows
// never races; there max pooling's gradient finds each window's maximum
// again from the input.
//
//===----------------------------------------------------------------------===//

#include "CpuDnnl.h"
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
};

/// The primitives of one geometry, or null where oneDNN refuses it.
std::unique_ptr<PoolPrimitives> build(const Pool2DGeometry &g, bool max) {
  using namespace dnnl;
  using Tag = memory::format_tag;
  auto f32 = memory::data_type::f32;
  memory::desc src({g.batch, g.channels, g.inHeight, g.inWidth}, f32, Tag::nchw);
  memory::desc dst({g.batch, g.channels, g.outHeight, g.outWidth}, f32,
                   Tag::nchw);
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
        engine());
    pooling_forward::primitive_desc training(
        {prop_kind::forward_training, algo, src, dst, strides, kernel,
         padBegin, padEnd},
        engine());
    pooling_backward::primitive_desc backward(
        {algo, src, dst, strides, kernel, padBegin, padEnd}, engine(),
        training);
    p->forward = Execution(pooling_forward(inference));
    p->forward.addInput(DNNL_ARG_SRC, src);
    p->forward.addOutput(DNNL_ARG_DST, dst);
    p->backward = Execution(pooling_backward(backward));
    p->backward.addInput(DNNL_ARG_DIFF_DST, dst);
    p->backward.addOutput(DNNL_ARG_DIFF_SRC, src);
    if (max) {
      memory workspace(training.workspace_desc(), engine());
      p->recordMaxima = Execution(pooling_forward(training));
      p->recordMaxima.addInput(DNNL_ARG_SRC, src);
      p->recordMaxima.addFixed(DNNL_ARG_DST, memory(dst, engine()));
      p->recordMaxima.addFixed(DNNL_ARG_WORKSPACE, workspace);
      p->backward.addFixed(DNNL_ARG_WORKSPACE, workspace);
    }
  } catch (const dnnl::error &) {
    return nullptr;
  }
  return p;
}

PoolPrimitives *primitives(const Pool2DGeometry &g, bool max) {
  using Key = std::array<int64_t, 16>;
  static std::map<Key, std::unique_ptr<PoolPrimitives>> cache;
  static std::mutex mutex;
  Key key = {g.batch, g.channels, g.inHeight, g.inWidth, g.outHeight,
             g.outWidth, g.kernelHeight, g.kernelWidth, g.strideH, g.strideW,
             g.padTop, g.padLeft, g.padBottom, g.padRight,
             g.countIncludePad, max};
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, build(g, max)).first;
  return it->second.get();
}

/// Calls `body(plane, oh, ow, h0, h1, w0, w1)` for every window, where
/// [h0, h1) x [w0, w1) is the part of the window inside the input.
template <typename Body>
void forEachWindow(const Pool2DGeometry &g, Body body) {
  int64_t planes = g.batch * g.channels;
  #pragma omp parallel for
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oh = 0; oh < g.outHeight; ++oh)
      for (int64_t ow = 0; ow < g.outWidth; ++ow) {
        int64_t hStart = oh * g.strideH - g.padTop;
        int64_t wStart = ow * g.strideW - g.padLeft;
        body(plane, oh, ow, std::max<int64_t>(hStart, 0),
             std::min(hStart + g.kernelHeight, g.inHeight),
             std::max<int64_t>(wStart, 0),
             std::min(wStart + g.kernelWidth, g.inWidth));
      }
}

int64_t inputPlane(const Pool2DGeometry &g) { return g.inHeight * g.inWidth; }
int64_t outputPlane(const Pool2DGeometry &g) {
  return g.outHeight * g.outWidth;
}

/// The index (in its plane) of the first maximum of a window.
int64_t argMax(const Pool2DGeometry &g, const float *plane, int64_t h0,
               int64_t h1, int64_t w0, int64_t w1) {
  int64_t best = h0 * g.inWidth + w0;
  for (int64_t h = h0; h < h1; ++h)
    for (int64_t w = w0; w < w1; ++w)
      if (plane[h * g.inWidth + w] > plane[best])
        best = h * g.inWidth + w;
  return best;
}

float divisor(const Pool2DGeometry &g, int64_t h0, int64_t h1, int64_t w0,
              int64_t w1) {
  return g.countIncludePad ? g.kernelHeight * g.kernelWidth
                           : (h1 - h0) * (w1 - w0);
}

void maxPool2dLoops(const Pool2DGeometry &g, const float *x, float *y) {
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t h0,
                       int64_t h1, int64_t w0, int64_t w1) {
    const float *in = x + plane * inputPlane(g);
    y[plane * outputPlane(g) + oh * g.outWidth + ow] =
        in[argMax(g, in, h0, h1, w0, w1)];
  });
}

void maxPool2dGradLoops(const Pool2DGeometry &g, const float *dy,
                        const float *x, float *dx) {
  std::memset(dx, 0, g.batch * g.channels * inputPlane(g) * sizeof(float));
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t h0,
                       int64_t h1, int64_t w0, int64_t w1) {
    const float *in = x + plane * inputPlane(g);
    dx[plane * inputPlane(g) + argMax(g, in, h0, h1, w0, w1)] +=
        dy[plane * outputPlane(g) + oh * g.outWidth + ow];
  });
}

void avgPool2dLoops(const Pool2DGeometry &g, const float *x, float *y) {
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t h0,
                       int64_t h1, int64_t w0, int64_t w1) {
    const float *in = x + plane * inputPlane(g);
    float sum = 0.0f;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w)
        sum += in[h * g.inWidth + w];
    y[plane * outputPlane(g) + oh * g.outWidth + ow] =
        sum / divisor(g, h0, h1, w0, w1);
  });
}

void avgPool2dGradLoops(const Pool2DGeometry &g, const float *dy,
                        float *dx) {
  std::memset(dx, 0, g.batch * g.channels * inputPlane(g) * sizeof(float));
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t h0,
                       int64_t h1, int64_t w0, int64_t w1) {
    float share = dy[plane * outputPlane(g) + oh * g.outWidth + ow] /
                  divisor(g, h0, h1, w0, w1);
    float *out = dx + plane * inputPlane(g);
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w)
        out[h * g.inWidth + w] += share;
  });
}

} // namespace

void maxPool2d(Context &, const Pool2DGeometry &g, const float *x, float *y) {
  if (PoolPrimitives *p = primitives(g, /*max=*/true))
    return p->forward.run({x, y});
  maxPool2dLoops(g, x, y);
}

void maxPool2dGrad(Context &, const Pool2DGeometry &g, const float *dy,
                   const float *x, float *dx) {
  if (PoolPrimitives *p = primitives(g, /*max=*/true)) {
    p->recordMaxima.run({x});
    return p->backward.run({dy, dx});
  }
  maxPool2dGradLoops(g, dy, x, dx);
}

void avgPool2d(Context &, const Pool2DGeometry &g, const float *x, float *y) {
  if (PoolPrimitives *p = primitives(g, /*max=*/false))
    return p->forward.run({x, y});
  avgPool2dLoops(g, x, y);
}

void avgPool2dGrad(Context &, const Pool2DGeometry &g, const float *dy,
                   float *dx) {
  if (PoolPrimitives *p = primitives(g, /*max=*/false))
    return p->backward.run({dy, dx});
  avgPool2dGradLoops(g, dy, dx);
}

} // namespace dlc::rt
