//===- CpuPooling.cpp - CPU backend: max and average pooling --------------===//
//
// Plain loops, one (image, channel) plane per OpenMP task, so the gradient
// scatter of overlapping windows never races. Max pooling's gradient finds
// each window's maximum again from the input instead of keeping indices.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Kernels.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace dlc::rt {

namespace {

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

} // namespace

void maxPool2d(Context &, const Pool2DGeometry &g, const float *x, float *y) {
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t h0,
                       int64_t h1, int64_t w0, int64_t w1) {
    const float *in = x + plane * inputPlane(g);
    y[plane * outputPlane(g) + oh * g.outWidth + ow] =
        in[argMax(g, in, h0, h1, w0, w1)];
  });
}

void maxPool2dGrad(Context &, const Pool2DGeometry &g, const float *dy,
                   const float *x, float *dx) {
  std::memset(dx, 0, g.batch * g.channels * inputPlane(g) * sizeof(float));
  forEachWindow(g, [&](int64_t plane, int64_t oh, int64_t ow, int64_t h0,
                       int64_t h1, int64_t w0, int64_t w1) {
    const float *in = x + plane * inputPlane(g);
    dx[plane * inputPlane(g) + argMax(g, in, h0, h1, w0, w1)] +=
        dy[plane * outputPlane(g) + oh * g.outWidth + ow];
  });
}

void avgPool2d(Context &, const Pool2DGeometry &g, const float *x, float *y) {
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

void avgPool2dGrad(Context &, const Pool2DGeometry &g, const float *dy,
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

} // namespace dlc::rt
