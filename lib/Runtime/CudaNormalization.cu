//===- CudaNormalization.cu - CUDA backend: softmax and LRN on cuDNN ------===//
//
// Softmax and log-softmax along the middle dimension of outer x size x inner
// are cuDNN's channel softmax of an outer x size x inner x 1 tensor; LRN is
// cuDNN's cross-channel LRN of n x c x spatial x 1. cuDNN takes LRN windows
// of 1 to 16 channels, bias >= 1e-5 and beta >= 0.01 only: other LRNs run
// a thread per element with the CPU kernel's formulas (CudaIndexing.h).
//
//===----------------------------------------------------------------------===//

#include "CudaContext.h"
#include "CudaIndexing.h"
#include "dlc/Runtime/Kernels.h"

namespace dlc::rt {

namespace {
const float kOne = 1.0f, kZero = 0.0f;

/// The cuDNN tensor a softmax along the middle dimension works on.
cudnnTensorDescriptor_t lines(Context &ctx, int64_t outer, int64_t size,
                              int64_t inner) {
  return tensorDescriptor(ctx, outer, size, inner, 1);
}

void softmaxForward(Context &ctx, cudnnSoftmaxAlgorithm_t algorithm,
                    const float *x, float *y, int64_t outer, int64_t size,
                    int64_t inner) {
  cudnnTensorDescriptor_t desc = lines(ctx, outer, size, inner);
  check(cudnnSoftmaxForward(ctx.dnn, algorithm, CUDNN_SOFTMAX_MODE_CHANNEL,
                            &kOne, desc, x, &kZero, desc, y),
        "softmax");
}

void softmaxBackward(Context &ctx, cudnnSoftmaxAlgorithm_t algorithm,
                     const float *dy, const float *y, float *dx, int64_t outer,
                     int64_t size, int64_t inner) {
  cudnnTensorDescriptor_t desc = lines(ctx, outer, size, inner);
  check(cudnnSoftmaxBackward(ctx.dnn, algorithm, CUDNN_SOFTMAX_MODE_CHANNEL,
                             &kOne, desc, y, desc, dy, &kZero, desc, dx),
        "softmax gradient");
}

bool cudnnTakesLrn(int64_t size, float beta, float bias) {
  return size >= CUDNN_LRN_MIN_N && size <= CUDNN_LRN_MAX_N &&
         bias >= CUDNN_LRN_MIN_K && beta >= CUDNN_LRN_MIN_BETA;
}

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

void softmax(Context &ctx, const float *x, float *y, int64_t outer,
             int64_t size, int64_t inner) {
  CallTimer timer(ctx, "softmax");
  softmaxForward(ctx, CUDNN_SOFTMAX_ACCURATE, x, y, outer, size, inner);
}

void softmaxGrad(Context &ctx, const float *dy, const float *y, float *dx,
                 int64_t outer, int64_t size, int64_t inner) {
  CallTimer timer(ctx, "softmaxGrad");
  softmaxBackward(ctx, CUDNN_SOFTMAX_ACCURATE, dy, y, dx, outer, size, inner);
}

void logSoftmax(Context &ctx, const float *x, float *y, int64_t outer,
                int64_t size, int64_t inner) {
  CallTimer timer(ctx, "logSoftmax");
  softmaxForward(ctx, CUDNN_SOFTMAX_LOG, x, y, outer, size, inner);
}

void logSoftmaxGrad(Context &ctx, const float *dy, const float *y, float *dx,
                    int64_t outer, int64_t size, int64_t inner) {
  CallTimer timer(ctx, "logSoftmaxGrad");
  softmaxBackward(ctx, CUDNN_SOFTMAX_LOG, dy, y, dx, outer, size, inner);
}

void lrn(Context &ctx, const float *x, float *y, int64_t n, int64_t c,
         int64_t spatial, int64_t size, float alpha, float beta, float bias) {
  CallTimer timer(ctx, "lrn");
  if (cudnnTakesLrn(size, beta, bias)) {
    cudnnTensorDescriptor_t desc = tensorDescriptor(ctx, n, c, spatial, 1);
    check(cudnnLRNCrossChannelForward(
              ctx.dnn, lrnDescriptor(ctx, size, alpha, beta, bias),
              CUDNN_LRN_CROSS_CHANNEL_DIM1, &kOne, desc, x, &kZero, desc, y),
          "LRN");
    return;
  }
  int64_t total = n * c * spatial;
  lrnKernel<<<blocksFor(total), kThreads, 0, ctx.stream>>>(
      x, y, total, c, spatial, size, alpha, beta, bias);
}

void lrnGrad(Context &ctx, const float *dy, const float *x, const float *y,
             float *dx, int64_t n, int64_t c, int64_t spatial, int64_t size,
             float alpha, float beta, float bias) {
  CallTimer timer(ctx, "lrnGrad");
  if (cudnnTakesLrn(size, beta, bias)) {
    cudnnTensorDescriptor_t desc = tensorDescriptor(ctx, n, c, spatial, 1);
    check(cudnnLRNCrossChannelBackward(
              ctx.dnn, lrnDescriptor(ctx, size, alpha, beta, bias),
              CUDNN_LRN_CROSS_CHANNEL_DIM1, &kOne, desc, y, desc, dy, desc, x,
              &kZero, desc, dx),
          "LRN gradient");
    return;
  }
  int64_t total = n * c * spatial;
  lrnGradKernel<<<blocksFor(total), kThreads, 0, ctx.stream>>>(
      dy, x, dx, total, c, spatial, size, alpha, beta, bias);
}

} // namespace dlc::rt
