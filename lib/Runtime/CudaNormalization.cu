//===- CudaNormalization.cu - CUDA backend: local response normalization --===//
//
// ONNX LRN and its gradient, a thread per element, with the CPU kernel's
// formulas (CudaIndexing.h: lrnValue, lrnGradValue). cuDNN's LRN backward
// needs the forward output, which the runtime's ABI does not carry.
//
//===----------------------------------------------------------------------===//

#include "CudaContext.h"
#include "CudaIndexing.h"
#include "dlc/Runtime/Kernels.h"

namespace dlc::rt {

namespace {
/// Element i of an n x c x spatial tensor: its channel, and where channel 0
/// of its (image, position) is.
__device__ void place(int64_t i, int64_t c, int64_t spatial, int64_t &channel,
                      int64_t &base) {
  channel = i / spatial % c;
  base = i / (c * spatial) * c * spatial + i % spatial;
}

__global__ void lrnKernel(const float *x, float *y, int64_t total, int64_t c,
                          int64_t spatial, int64_t size, float alpha,
                          float beta, float bias) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= total)
    return;
  int64_t channel, base;
  place(i, c, spatial, channel, base);
  y[i] = cuda::lrnValue(x, base, channel, c, spatial, size, alpha, beta, bias);
}

__global__ void lrnGradKernel(const float *dy, const float *x, float *dx,
                              int64_t total, int64_t c, int64_t spatial,
                              int64_t size, float alpha, float beta,
                              float bias) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= total)
    return;
  int64_t channel, base;
  place(i, c, spatial, channel, base);
  dx[i] = cuda::lrnGradValue(dy, x, base, channel, c, spatial, size, alpha,
                             beta, bias);
}
} // namespace

void lrn(Context &ctx, const float *x, float *y, int64_t n, int64_t c,
         int64_t spatial, int64_t size, float alpha, float beta, float bias) {
  CallTimer timer(ctx, "lrn");
  int64_t total = n * c * spatial;
  lrnKernel<<<blocksFor(total), kThreads, 0, ctx.stream>>>(
      x, y, total, c, spatial, size, alpha, beta, bias);
}

void lrnGrad(Context &ctx, const float *dy, const float *x, float *dx,
             int64_t n, int64_t c, int64_t spatial, int64_t size, float alpha,
             float beta, float bias) {
  CallTimer timer(ctx, "lrnGrad");
  int64_t total = n * c * spatial;
  lrnGradKernel<<<blocksFor(total), kThreads, 0, ctx.stream>>>(
      dy, x, dx, total, c, spatial, size, alpha, beta, bias);
}

} // namespace dlc::rt
