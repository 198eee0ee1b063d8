//===- CudaPoolingWindows.cu - CUDA backend: pooling cuDNN does not take --===//
//
// Max and average pooling with uneven padding (ceil mode, SAME_UPPER) or
// dilated windows, and their gradients: a thread per output element
// forward, a thread per input element backward, with the arithmetic of
// CudaIndexing.h (the CPU loops' semantics, checked against them on the
// CPU by GoogleTest). CudaDnn.cu sends here what cuDNN refuses.
//
//===----------------------------------------------------------------------===//

#include "CudaContext.h"
#include "CudaIndexing.h"

namespace dlc::rt {

namespace {
int64_t inputPlane(const Pool2DGeometry &g) { return g.inHeight * g.inWidth; }
int64_t outputPlane(const Pool2DGeometry &g) {
  return g.outHeight * g.outWidth;
}

template <bool Max>
__global__ void poolKernel(Pool2DGeometry g, const float *x, float *y,
                           int64_t total) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= total)
    return;
  int64_t perPlane = g.outHeight * g.outWidth;
  int64_t plane = i / perPlane, at = i % perPlane;
  const float *in = x + plane * g.inHeight * g.inWidth;
  int64_t oh = at / g.outWidth, ow = at % g.outWidth;
  y[i] = Max ? cuda::maxPoolValue(g, in, oh, ow)
             : cuda::avgPoolValue(g, in, oh, ow);
}

template <bool Max>
__global__ void poolGradKernel(Pool2DGeometry g, const float *dy,
                               const float *x, float *dx, int64_t total) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= total)
    return;
  int64_t perPlane = g.inHeight * g.inWidth;
  int64_t plane = i / perPlane, at = i % perPlane;
  const float *dyPlane = dy + plane * g.outHeight * g.outWidth;
  int64_t h = at / g.inWidth, w = at % g.inWidth;
  dx[i] = Max ? cuda::maxPoolGradValue(g, dyPlane, x + plane * perPlane, h, w)
              : cuda::avgPoolGradValue(g, dyPlane, h, w);
}
} // namespace

bool cudnnTakesPooling(const Pool2DGeometry &g) {
  return g.dilationH == 1 && g.dilationW == 1 && g.padTop == g.padBottom &&
         g.padLeft == g.padRight;
}

void poolWindows(Context &ctx, const Pool2DGeometry &g, bool max,
                 const float *x, float *y) {
  int64_t total = g.batch * g.channels * outputPlane(g);
  if (max)
    poolKernel<true>
        <<<blocksFor(total), kThreads, 0, ctx.stream>>>(g, x, y, total);
  else
    poolKernel<false>
        <<<blocksFor(total), kThreads, 0, ctx.stream>>>(g, x, y, total);
}

void poolWindowsGrad(Context &ctx, const Pool2DGeometry &g, bool max,
                     const float *dy, const float *x, float *dx) {
  int64_t total = g.batch * g.channels * inputPlane(g);
  if (max)
    poolGradKernel<true>
        <<<blocksFor(total), kThreads, 0, ctx.stream>>>(g, dy, x, dx, total);
  else
    poolGradKernel<false>
        <<<blocksFor(total), kThreads, 0, ctx.stream>>>(g, dy, x, dx, total);
}

} // namespace dlc::rt
